"""The shared Google Sheet as a source (gspread, service account, read-only scope).

Hot path: one values:batchGet request for every tab, formatted values as text. Only when a tab
is missing (the API then refuses the whole batch) is the spreadsheet's metadata read, to say
which tab is missing and to match renamed tabs by their Vietnamese key.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar, cast

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from tasks.contract import TABS, RawTabs, SourceError, SourceUnavailable
from tasks.text import match_key
from tasks.watchdog import Deadline, Watchdog

GOOGLE_SHEETS = "https://sheets.googleapis.com"
T = TypeVar("T")
READ_ONLY = ["https://www.googleapis.com/auth/spreadsheets.readonly"]
READ_WRITE = ["https://www.googleapis.com/auth/spreadsheets"]  # to publish the units' status tab
RETRYABLE = {408, 429, 500, 502, 503, 504}


class _Adapter(HTTPAdapter):
    """Every connection of the source goes through here: each new socket is shown to the
    watchdog of the read under way (so a server trickling its answer cannot hold the round), and
    requests meant for the Sheets API may go to another base URL (a proxy or a stand-in: gspread
    bakes the Google URL in at import time)."""

    def __init__(self, base_url: str = GOOGLE_SHEETS):
        self.base_url = base_url.rstrip("/")
        self.watchdog: Watchdog | None = None
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        watch = self._watch

        class Plain(HTTPConnection):
            def _new_conn(self) -> socket.socket:
                return watch(super()._new_conn())

        class Tls(HTTPSConnection):
            def _new_conn(self) -> socket.socket:
                return watch(super()._new_conn())

        class PlainPool(HTTPConnectionPool):
            ConnectionCls = Plain

        class TlsPool(HTTPSConnectionPool):
            ConnectionCls = Tls

        self.poolmanager.pool_classes_by_scheme = {"http": PlainPool, "https": TlsPool}

    def _watch(self, sock: socket.socket) -> socket.socket:
        return self.watchdog.watch(sock) if self.watchdog else sock

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]  # requests names every option
        url = request.url or ""
        if url.startswith(GOOGLE_SHEETS) and self.base_url != GOOGLE_SHEETS:
            request.url = self.base_url + url[len(GOOGLE_SHEETS) :]
        # no connection kept from an earlier read, whose socket this read's watchdog never saw
        self.poolmanager.clear()
        return super().send(request, **kwargs)


def load_service_account(path: Path | None, secret_block: str | None) -> dict[str, Any]:
    """The service-account JSON from a file, or from a Prefect Secret block holding it as text."""
    if secret_block:
        from prefect.blocks.system import Secret

        try:
            value = Secret.load(secret_block).get()  # type: ignore[union-attr]  # sync: no coroutine
        except Exception as exc:  # Prefect raises several kinds for a missing block
            raise SourceError(
                f"Không đọc được Secret block '{secret_block}' của Prefect ({type(exc).__name__}). "
                "Tạo block Secret chứa nội dung tệp JSON của tài khoản dịch vụ."
            ) from None
        text, where = (value if isinstance(value, str) else json.dumps(value)), f"Secret '{secret_block}'"
    elif path:
        if not Path(path).is_file():
            raise SourceError(
                f"Không tìm thấy tệp khoá tài khoản dịch vụ '{path}' (THIDUA_GOOGLE_CREDENTIALS). "
                "Tải tệp JSON của tài khoản dịch vụ từ Google Cloud Console và đặt đường dẫn đúng."
            )
        try:
            text, where = Path(path).read_text(encoding="utf-8"), str(path)
        except (UnicodeDecodeError, OSError) as exc:
            raise SourceError(
                f"Không đọc được tệp khoá '{path}' (THIDUA_GOOGLE_CREDENTIALS) như văn bản JSON "
                f"({type(exc).__name__}): tải lại tệp JSON của tài khoản dịch vụ."
            ) from None
    else:
        raise SourceError(
            "Nguồn là Google Sheet nhưng chưa có khoá tài khoản dịch vụ: đặt THIDUA_GOOGLE_CREDENTIALS "
            "(đường dẫn tệp JSON) hoặc THIDUA_GOOGLE_CREDENTIALS_BLOCK (tên Secret block của Prefect)."
        )
    try:
        info = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise SourceError(f"Khoá tài khoản dịch vụ ở {where} không phải JSON hợp lệ.") from None
    if not isinstance(info, dict):
        raise SourceError(f"Khoá tài khoản dịch vụ ở {where} không phải JSON của tài khoản dịch vụ.")
    missing = [k for k in ("client_email", "private_key", "token_uri") if k not in info]
    if info.get("type") != "service_account" or missing:
        raise SourceError(
            f"Khoá ở {where} không phải khoá tài khoản dịch vụ (type=service_account; thiếu: "
            f"{', '.join(missing) or 'không'}). Tạo khoá mới: IAM → Service accounts → Keys → JSON."
        )
    return info


class GoogleSheetSource:
    """Reads the contract's tabs from a Google Sheet in one request."""

    def __init__(
        self,
        key: str,
        service_account: dict[str, Any],
        api_base_url: str = GOOGLE_SHEETS,
        tab_titles: dict[str, str] | None = None,
        max_wait: float = 60.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        deadline: float = 180.0,
        write: bool = False,
    ):
        self.key = key
        self.account = service_account["client_email"]
        self.description = f"Google Sheet {key}"
        self.tab_titles = {t: (tab_titles or {}).get(t, t) for t in TABS}
        self.max_wait = max_wait
        self.deadline = deadline  # seconds for a whole read: token, requests, back-off
        self.sleep = sleep
        self.requests = 0  # Sheets API requests made (the token exchange is not one)
        self.missing_tabs: list[str] = []
        self._client = self._make_client(service_account, api_base_url, timeout, write)

    def _make_client(self, info: dict[str, Any], api_base_url: str, timeout: float, write: bool) -> Any:
        import gspread
        from google.auth.transport.requests import AuthorizedSession, Request
        from google.oauth2.service_account import Credentials

        try:
            creds = Credentials.from_service_account_info(info, scopes=READ_WRITE if write else READ_ONLY)
        except (ValueError, KeyError) as exc:
            raise SourceError(
                f"Khoá tài khoản dịch vụ {info.get('client_email')} không dùng được ({exc}). "
                "Tạo khoá mới cho tài khoản dịch vụ."
            ) from None
        self._adapter = _Adapter(api_base_url)
        token_session = requests.Session()  # the token exchange, watched like the API's requests
        session = AuthorizedSession(creds, auth_request=Request(token_session))
        for http in (token_session, session):
            http.mount("https://", self._adapter)
            http.mount("http://", self._adapter)
        client = gspread.Client(auth=creds, session=session)
        client.http_client.auth = creds
        client.http_client.set_timeout((10, timeout))
        return client

    # -- requests, with bounded back-off ------------------------------------------------------
    @contextlib.contextmanager
    def watched(self) -> Iterator[None]:
        """One deadline (THIDUA_SHEETS_DEADLINE) for every request made inside."""
        self._adapter.watchdog = watchdog = Watchdog(Deadline(self.deadline))
        try:
            yield
        finally:
            watchdog.stop()
            self._adapter.watchdog = None

    def metadata(self) -> dict[str, Any]:
        return cast(dict[str, Any], self._client.http_client.fetch_sheet_metadata(self.key))

    def batch_update(self, body: dict[str, Any]) -> Any:
        return self._client.http_client.batch_update(self.key, body)

    def call(
        self, what: str, fn: Callable[[], T], refused: Callable[[int, str], SourceError | None] | None = None
    ) -> T:
        """`fn()` with bounded back-off; `refused(code, message)` may word a refusal for the caller's
        purpose (a write refused to a reader) before the general wording is used."""
        try:
            return self._call(what, fn)
        except _Refused as exc:
            own = refused(exc.code, exc.message) if refused else None
            raise own or self._explain(exc.code, exc.status, exc.message) from None

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        import gspread
        from google.auth.exceptions import RefreshError, TransportError

        waited, delay, attempt = 0.0, 1.0, 0
        while True:
            attempt += 1
            self.requests += 1
            try:
                return fn()
            except gspread.exceptions.APIError as exc:
                code, status = exc.code, exc.error.get("status", "")
                if code == 400 and "Unable to parse range" in exc.error.get("message", ""):
                    raise _MissingTab() from None
                if code not in RETRYABLE:
                    raise _Refused(code, status, exc.error.get("message", "")) from None
                problem = f"{code} {status}".strip()
                retry_after = exc.response.headers.get("Retry-After")
            except (requests.Timeout, requests.ConnectionError) as exc:
                if self._adapter.watchdog and self._adapter.watchdog.fired:
                    raise self._too_slow(what) from None
                problem, retry_after = f"{type(exc).__name__}", None
            except RefreshError as exc:
                raise SourceError(
                    f"Google từ chối cấp quyền cho tài khoản dịch vụ {self.account} ({exc.args[0]}). "
                    "Kiểm tra khoá JSON còn hiệu lực (chưa bị xoá hoặc vô hiệu hoá)."
                ) from None
            except TransportError as exc:
                if self._adapter.watchdog and self._adapter.watchdog.fired:
                    raise self._too_slow(what) from None
                problem, retry_after = f"đổi token thất bại: {exc}", None
            wait = float(retry_after) if retry_after and retry_after.isdigit() else delay
            if waited + wait > self.max_wait:
                raise SourceUnavailable(
                    f"Google Sheets API không trả lời được khi {what} sau {attempt} lần thử trong "
                    f"{waited:.0f} giây (lỗi cuối: {problem}). "
                    + (
                        "Hết hạn mức đọc (quota, 60 lần/phút/người dùng): chờ vài phút rồi chạy lại."
                        if problem.startswith("429")
                        else "Chạy lại sau; nếu còn lỗi, kiểm tra mạng và trang trạng thái của Google."
                    )
                )
            self.sleep(wait)
            waited += wait
            delay = min(delay * 2, 30.0)

    def _too_slow(self, what: str) -> SourceUnavailable:
        return SourceUnavailable(
            f"Google Sheets API chưa trả lời xong khi {what} sau {self.deadline:.0f} giây "
            "(THIDUA_SHEETS_DEADLINE): đường truyền hoặc máy chủ quá chậm. Chạy lại sau; nếu còn lỗi, "
            "kiểm tra mạng (proxy, tường lửa) của máy chạy thidua."
        )

    def _explain(self, code: int, status: str, message: str) -> SourceError:
        if code == 404:
            return SourceError(
                f"Không tìm thấy Google Sheet có khoá '{self.key}' (404). Kiểm tra THIDUA_SOURCE "
                "(khoá hoặc đường dẫn của bảng tính)."
            )
        if code == 403:
            return SourceError(
                f"Tài khoản dịch vụ {self.account} chưa được quyền đọc Google Sheet '{self.key}' (403). "
                f"Mở bảng tính → Chia sẻ (Share) → thêm {self.account} với quyền Người xem (Viewer)."
            )
        if code == 401:
            return SourceError(
                f"Google không chấp nhận thông tin đăng nhập của {self.account} (401). Kiểm tra khoá JSON."
            )
        return SourceError(f"Google Sheets API báo lỗi {code} {status}: {message}")

    # -- reading -------------------------------------------------------------------------------
    def _batch_get(self, titles: list[str]) -> list[dict[str, Any]]:
        ranges = ["'" + t.replace("'", "''") + "'" for t in titles]
        body = self.call(
            "đọc các trang tính",
            lambda: self._client.http_client.values_batch_get(
                self.key, ranges, params={"valueRenderOption": "FORMATTED_VALUE"}
            ),
        )
        return cast(list[dict[str, Any]], body.get("valueRanges", []))

    def sheet_titles(self) -> list[str]:
        meta = self.call(
            "đọc danh sách trang tính", lambda: self._client.http_client.fetch_sheet_metadata(self.key)
        )
        return [s["properties"]["title"] for s in meta.get("sheets", [])]

    def read_tabs(self) -> RawTabs:
        import gspread

        wanted = list(self.tab_titles.items())
        try:
            with self.watched():
                try:
                    ranges = self._batch_get([title for _, title in wanted])
                except _MissingTab:
                    wanted, ranges = self._read_existing_tabs(wanted)
        except gspread.exceptions.GSpreadException as exc:
            raise SourceError(f"Lỗi khi đọc Google Sheet '{self.key}': {exc}") from None
        return {
            canonical: [[str(c) for c in row] for row in vr.get("values", [])]
            for (canonical, _), vr in zip(wanted, ranges, strict=True)
        }

    def _read_existing_tabs(
        self, wanted: list[tuple[str, str]]
    ) -> tuple[list[tuple[str, str]], list[dict[str, Any]]]:
        """Slow path: a tab is missing or renamed; list the tabs and match them by key."""
        existing = {match_key(t): t for t in self.sheet_titles()}
        found = [(c, existing[match_key(t)]) for c, t in wanted if match_key(t) in existing]
        self.missing_tabs = [t for c, t in wanted if match_key(t) not in existing]
        return found, (self._batch_get([t for _, t in found]) if found else [])


class _Refused(Exception):
    """The API refused a request for good (4xx other than the retryable ones)."""

    def __init__(self, code: int, status: str, message: str):
        super().__init__(f"{code} {status}: {message}")
        self.code, self.status, self.message = code, status, message


class _MissingTab(Exception):
    """The API refused the batch because one of the named tabs does not exist."""
