"""Great Expectations suites, one JSON file per dataset, and the module that loads and runs them."""
