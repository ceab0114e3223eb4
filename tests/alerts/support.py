"""Local receivers for alert tests (a webhook and an SMTP server on 127.0.0.1) and helpers."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import socketserver
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from alerts.config import read_alerts_config
from flows.settings import PROJECT_ROOT

MIANYANG_ALERTS = PROJECT_ROOT / "config" / "mianyang" / "alerts.yml"


def _checkpoints(con, where: str) -> set[tuple[str, int]]:
    return set(con.execute(f"select kpi_id, checkpoint_year from kpi.kpi_status where {where}")
               .fetchall())




# --- receivers -------------------------------------------------------------------------------

class Receiver(ThreadingHTTPServer):
    """Records every POST; paths under /fail answer 500, robot paths answer errcode 0."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.posts: list[dict] = []
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    def to(self, path: str) -> list[dict]:
        return [p for p in self.posts if p["path"] == path]


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        path, _, query = self.path.partition("?")
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.posts.append({"path": path, "query": query, "body": body,
                                  "headers": dict(self.headers)})
        failing = path.startswith("/fail")
        answer = json.dumps({"errcode": 0, "errmsg": "ok"}).encode()
        self.send_response(500 if failing else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


class SMTPServer(socketserver.ThreadingTCPServer):
    """Speaks just enough SMTP for smtplib: greeting, EHLO/HELO, MAIL, RCPT, DATA, RSET, QUIT."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SMTPHandler)
        self.messages: list[dict] = []
        self.port = self.server_address[1]

    def mails(self) -> list[email.message.EmailMessage]:
        return [email.message_from_bytes(m["data"], policy=email.policy.default)
                for m in self.messages]


class _SMTPHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 127.0.0.1 test SMTP")
        sender, rcpts = None, []
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").strip()
            verb = command[:4].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 127.0.0.1")
            elif verb == "MAIL":
                sender, rcpts = command[10:], []
                self.reply("250 OK")
            elif verb == "RCPT":
                rcpts.append(command[8:])
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                self.server.messages.append({"from": sender, "to": rcpts, "data": data})
                self.reply("250 queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("502 not implemented")




def _config(tmp_path: Path, text: str, env: dict | None = None):
    path = tmp_path / "alerts.yml"
    path.write_text(text, encoding="utf-8")
    return read_alerts_config(path, env=env or {})


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keys(posts: list[dict]) -> set[tuple[str, int]]:
    return {(p["body"]["fields"]["kpi_id"], p["body"]["fields"]["checkpoint_year"]) for p in posts}


def _alert_rows(con, where: str = "true") -> list[dict]:
    cursor = con.execute(f"select * from meta.alerts where {where} order by created_at, alert_id, channel")
    columns = [d[0] for d in cursor.description]
    return [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
