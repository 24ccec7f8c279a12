"""A local HTTP stand-in of the Google Sheets v4 API and of Google's OAuth token endpoint.

The real gspread client and the real google-auth service-account flow talk to it: the token
request is a signed JWT (verified here with the account's public key), every API call must carry
the Bearer token it handed out. Faults can be queued per API request.

Writes (spreadsheets.batchUpdate: addSheet, updateSheetProperties, updateCells,
updateDimensionProperties, addProtectedRange) take the real API's request and response shapes
and are refused as it refuses them: a token without the spreadsheets scope or an account shared
as a viewer (403), a duplicate tab, an unknown sheetId, cells outside the grid, all rows frozen,
a request kind it does not know (400). A batch is applied whole or not at all.
"""

from __future__ import annotations

import copy
import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import jwt

TOKEN = "ya29.stand-in-token"  # for the read-only scope
WRITE_TOKEN = "ya29.stand-in-write-token"  # for the spreadsheets (read and write) scope
WRITE_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
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
        self.can_edit = True  # the account's share: Editor, or only Viewer
        self.sheet_ids = {title: i for i, title in enumerate(tabs)}
        self.grids = {title: {"rowCount": 1000, "columnCount": 26} for title in tabs}
        self.protected: dict[str, list[dict]] = {}
        self.widths: dict[str, dict[int, int]] = {}
        self.formats: dict[str, dict[tuple[int, int], dict]] = {}
        self.write_requests = 0

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def env(self, folder) -> dict[str, object]:
        """THIDUA_* settings that point the CLI at this stand-in, the account's key written in `folder`."""
        key = folder / "sa.json"
        key.write_text(json.dumps(self.service_account))
        return {
            "THIDUA_SOURCE": SPREADSHEET_ID,
            "THIDUA_GOOGLE_CREDENTIALS": key,
            "THIDUA_SHEETS_API_URL": self.base_url,
        }

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

    def sheet(self, title: str) -> dict:
        """One tab as spreadsheets.get describes it (protectedRanges only when there are some)."""
        out: dict = {
            "properties": {
                "sheetId": self.sheet_ids[title],
                "title": title,
                "index": list(self.tabs).index(title),
                "sheetType": "GRID",
                "gridProperties": dict(self.grids[title]),
            }
        }
        if self.protected.get(title):
            out["protectedRanges"] = self.protected[title]
        return out

    def apply(self, requests: list[dict]) -> list[dict]:
        """A batch, whole or not at all: worked on copies, kept only if every request is valid."""
        state = copy.deepcopy(
            (self.tabs, self.sheet_ids, self.grids, self.protected, self.widths, self.formats)
        )
        try:
            return [self._one(i, request) for i, request in enumerate(requests)]
        except ValueError:
            self.tabs, self.sheet_ids, self.grids, self.protected, self.widths, self.formats = state
            raise

    def _title_of(self, where: str, sheet_id) -> str:
        for title, known in self.sheet_ids.items():
            if known == sheet_id:
                return title
        raise ValueError(f"Invalid requests[{where}]: No grid with id: {sheet_id}")

    def _one(self, i: int, request: dict) -> dict:
        if len(request) != 1:
            raise ValueError(f"Invalid requests[{i}]: exactly one kind of request must be set")
        kind, body = next(iter(request.items()))
        where = f"{i}].{kind}"
        if kind == "addSheet":
            props = body.get("properties", {})
            title = props.get("title", "")
            if title in self.tabs:
                raise ValueError(
                    f'Invalid requests[{where}: A sheet with the name "{title}" already exists. '
                    "Please enter another name."
                )
            sheet_id = 100_000_000 + len(self.sheet_ids) * 7919  # the real API's ids look random too
            self.tabs[title] = []
            self.sheet_ids[title] = sheet_id
            self.grids[title] = {"rowCount": 1000, "columnCount": 26, **props.get("gridProperties", {})}
            self._check_frozen(where, title)
            return {"addSheet": self.sheet(title)}
        if kind == "updateSheetProperties":
            if not body.get("fields"):
                raise ValueError(
                    f"Invalid requests[{where}: At least one field must be updated, but none were."
                )
            props = body["properties"]
            title = self._title_of(where, props.get("sheetId"))
            self.grids[title].update(props.get("gridProperties", {}))
            grid = self.grids[title]
            self.tabs[title] = [row[: grid["columnCount"]] for row in self.tabs[title][: grid["rowCount"]]]
            self._check_frozen(where, title)
            return {}
        if kind == "updateCells":
            return self._update_cells(where, body)
        if kind == "updateDimensionProperties":
            span = body["range"]
            title = self._title_of(where, span.get("sheetId"))
            if span.get("dimension") == "COLUMNS":
                for column in range(span["startIndex"], span["endIndex"]):
                    self.widths.setdefault(title, {})[column] = body["properties"]["pixelSize"]
            return {}
        if kind == "addProtectedRange":
            protected = dict(body["protectedRange"])
            title = self._title_of(where, protected.get("range", {}).get("sheetId"))
            protected["protectedRangeId"] = 1000 + sum(len(v) for v in self.protected.values())
            self.protected.setdefault(title, []).append(protected)
            return {"addProtectedRange": {"protectedRange": protected}}
        raise ValueError(f"Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{i}]'")

    def _check_frozen(self, where: str, title: str) -> None:
        grid = self.grids[title]
        if grid.get("frozenRowCount", 0) >= grid["rowCount"]:
            raise ValueError(f"Invalid requests[{where}: You can't freeze all visible rows on the sheet.")

    def _update_cells(self, where: str, body: dict) -> dict:
        if ("start" in body) == ("range" in body):
            raise ValueError(f"Invalid requests[{where}: Must specify exactly one of start or range")
        if not body.get("fields"):
            raise ValueError(f"Invalid requests[{where}: At least one field must be updated, but none were.")
        anchor = body.get("start") or body["range"]
        title = self._title_of(where, anchor.get("sheetId"))
        grid, rows = self.grids[title], body.get("rows", [])
        if "range" in body and not rows:  # no rows: the fields named are cleared in the range
            self.tabs[title] = []
            self.formats[title] = {}
            return {}
        top, left = (
            anchor.get("rowIndex", anchor.get("startRowIndex", 0)),
            anchor.get("columnIndex", anchor.get("startColumnIndex", 0)),
        )
        if top + len(rows) > grid["rowCount"]:
            raise ValueError(
                f"Invalid requests[{where}: GridCoordinate.rowIndex[{top + len(rows) - 1}] is after "
                f"last row in grid[{grid['rowCount'] - 1}]"
            )
        table = self.tabs[title]
        for r, row in enumerate(rows):
            cells = row.get("values", [])
            if left + len(cells) > grid["columnCount"]:
                raise ValueError(
                    f"Invalid requests[{where}: GridCoordinate.columnIndex[{left + len(cells) - 1}] is "
                    f"after last column in grid[{grid['columnCount'] - 1}]"
                )
            while len(table) <= top + r:
                table.append([])
            line = table[top + r]
            for c, cell in enumerate(cells):
                while len(line) <= left + c:
                    line.append("")
                value = cell.get("userEnteredValue", {})
                line[left + c] = str(value.get("stringValue", value.get("numberValue", "")))
                if "userEnteredFormat" in cell:
                    self.formats.setdefault(title, {})[(top + r, left + c)] = cell["userEnteredFormat"]
        return {}

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
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                url = urlparse(self.path)
                if url.path.endswith(":batchUpdate"):
                    return self._batch_update(url.path, json.loads(body))
                form = parse_qs(body)
                claims = jwt.decode(
                    form["assertion"][0],
                    certs=standin.public_key,
                    audience="https://oauth2.googleapis.com/token",
                )
                standin.token_requests.append({"grant_type": form["grant_type"][0], **claims})
                token = WRITE_TOKEN if WRITE_SCOPE in claims.get("scope", "").split() else TOKEN
                self._send(200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"})

            def _error(self, status, message):
                names = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND"}
                return self._send(
                    status, {"error": {"code": status, "message": message, "status": names[status]}}
                )

            def _batch_update(self, path, body):
                standin.api_requests.append(path)
                standin.write_requests += 1
                token = self.headers.get("Authorization")
                if token not in (f"Bearer {TOKEN}", f"Bearer {WRITE_TOKEN}"):
                    return self._error(403, "The request is missing a valid API key.")
                if token != f"Bearer {WRITE_TOKEN}":
                    return self._error(403, "Request had insufficient authentication scopes.")
                if path != f"/v4/spreadsheets/{SPREADSHEET_ID}:batchUpdate":
                    return self._error(404, "Requested entity was not found.")
                if not standin.can_edit:
                    return self._error(403, "The caller does not have permission")
                try:
                    replies = standin.apply(body.get("requests", []))
                except ValueError as exc:
                    return self._error(400, str(exc))
                self._send(200, {"spreadsheetId": SPREADSHEET_ID, "replies": replies})

            def do_GET(self):
                time.sleep(standin.latency)
                url = urlparse(self.path)
                standin.api_requests.append(url.path)
                if self.headers.get("Authorization") not in (f"Bearer {TOKEN}", f"Bearer {WRITE_TOKEN}"):
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
                    sheets = [standin.sheet(title) for title in standin.tabs]
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
