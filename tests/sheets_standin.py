"""A local HTTP stand-in of the Google Sheets v4 API and of Google's OAuth token endpoint.

The real gspread client and the real google-auth service-account flow talk to it: the token
request is a signed JWT (verified here with the account's public key), every API call must carry
the Bearer token it handed out. Faults can be queued per API request.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

TOKEN = "ya29.stand-in-token"
SPREADSHEET_ID = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"


def make_service_account(token_uri: str) -> tuple[dict, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    info = {
        "type": "service_account",
        "project_id": "thidua-test",
        "private_key_id": "stand-in-key",
        "private_key": pem,
        "client_email": "thidua-reader@thidua-test.iam.gserviceaccount.com",
        "client_id": "1234567890",
        "token_uri": token_uri,
    }
    return info, public


def _api_values(rows: list[list[str]]) -> list[list[str]]:
    """As the API returns them: trailing empty cells and rows are left out."""
    out = [list(r) for r in rows]
    for r in out:
        while r and r[-1] == "":
            r.pop()
    while out and not out[-1]:
        out.pop()
    return out


class SheetsStandIn:
    def __init__(self, tabs: dict[str, list[list[str]]]):
        self.tabs = tabs
        self.faults: deque = deque()  # (status, body dict, headers) or ("sleep", seconds)
        self.api_requests: list[str] = []
        self.latency = 0.0  # seconds before every answer, as across a network (bench/)
        self.token_requests: list[dict] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base_url = f"http://127.0.0.1:{self.server.server_port}"
        self.service_account, self.public_key = make_service_account(self.base_url + "/token")

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def fail(self, status: int, times: int = 1, retry_after: str | None = None):
        names = {
            429: "RESOURCE_EXHAUSTED",
            403: "PERMISSION_DENIED",
            404: "NOT_FOUND",
            500: "INTERNAL",
            503: "UNAVAILABLE",
        }
        body = {"error": {"code": status, "status": names.get(status, "ERROR"), "message": "stand-in fault"}}
        headers = {"Retry-After": retry_after} if retry_after else {}
        for _ in range(times):
            self.faults.append((status, body, headers))

    def stall(self, seconds: float):
        self.faults.append(("sleep", seconds))

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, body, headers=None):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self):
                time.sleep(standin.latency)
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                claims = jwt.decode(
                    form["assertion"][0],
                    certs=standin.public_key,
                    audience="https://oauth2.googleapis.com/token",
                )
                standin.token_requests.append({"grant_type": form["grant_type"][0], **claims})
                self._send(200, {"access_token": TOKEN, "expires_in": 3600, "token_type": "Bearer"})

            def do_GET(self):
                time.sleep(standin.latency)
                url = urlparse(self.path)
                standin.api_requests.append(url.path)
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(
                        401, {"error": {"code": 401, "status": "UNAUTHENTICATED", "message": "no token"}}
                    )
                if standin.faults:
                    fault = standin.faults.popleft()
                    if fault[0] == "sleep":
                        time.sleep(fault[1])
                    else:
                        return self._send(*fault)
                prefix = f"/v4/spreadsheets/{SPREADSHEET_ID}"
                if not url.path.startswith(prefix):
                    return self._send(
                        404,
                        {
                            "error": {
                                "code": 404,
                                "status": "NOT_FOUND",
                                "message": "Requested entity was not found.",
                            }
                        },
                    )
                if url.path == prefix:
                    sheets = [
                        {
                            "properties": {
                                "sheetId": i,
                                "title": t,
                                "index": i,
                                "sheetType": "GRID",
                                "gridProperties": {"rowCount": 1000, "columnCount": 26},
                            }
                        }
                        for i, t in enumerate(standin.tabs)
                    ]
                    return self._send(
                        200,
                        {
                            "spreadsheetId": SPREADSHEET_ID,
                            "sheets": sheets,
                            "properties": {
                                "title": "KVTĐ 2021",
                                "locale": "vi_VN",
                                "timeZone": "Asia/Ho_Chi_Minh",
                            },
                        },
                    )
                single = url.path.startswith(f"{prefix}/values/")  # gspread's get_values of one tab
                ranges = (
                    [url.path.split("/values/", 1)[1]] if single else parse_qs(url.query).get("ranges", [])
                )
                out = []
                for r in ranges:
                    title = unquote(r)
                    title = title[1:-1].replace("''", "'") if title.startswith("'") else title
                    if title not in standin.tabs:
                        return self._send(
                            400,
                            {
                                "error": {
                                    "code": 400,
                                    "status": "INVALID_ARGUMENT",
                                    "message": f"Unable to parse range: {r}",
                                }
                            },
                        )
                    vr = {"range": f"'{title}'!A1:Z1000", "majorDimension": "ROWS"}
                    values = _api_values(standin.tabs[title])
                    if values:
                        vr["values"] = values
                    out.append(vr)
                if single:
                    return self._send(200, out[0])
                self._send(200, {"spreadsheetId": SPREADSHEET_ID, "valueRanges": out})

        return Handler
