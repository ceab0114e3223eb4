"""What carbonpeak shows people: the words, labels and (later) pages officials and analysts read."""
