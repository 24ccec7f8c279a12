"""`thidua publish`: the units' status where they look (the sheet's own tab, or a page and an
.xlsx beside the workbook); the same step every round and every served daily look takes."""

from __future__ import annotations

from typing import Annotated

import typer

from flows.cli_base import app, fail, inputs_or_exit, instant_or_exit, out, settings, warn
from tasks.inputs import assess
from tasks.publish import publish_status
from tasks.resources import Resources
from tasks.unit_status import unit_status


@app.command()
def publish(
    at: Annotated[str | None, typer.Option(help="Thời điểm ISO 8601; không múi giờ = giờ VN.")] = None,
) -> None:
    """Đăng bảng tình trạng nộp hồ sơ cho các đơn vị xem (trang tính riêng, hoặc trang HTML và tệp .xlsx)."""
    s = settings()
    inputs = inputs_or_exit(Resources(s))
    instant = instant_or_exit(at, inputs.plan)
    status = unit_status(inputs.plan, assess(inputs, instant), instant)
    done = publish_status(s, inputs.plan, status)
    if done.problem:
        raise fail(done.problem)
    shown = f"{len(status.rows)} dòng" if status.rows else "không có mốc nào đang nhận hồ sơ"
    out.print(f"Đã đăng bảng tình trạng ({shown}, tính lúc {status.computed}) vào {done.where}.")
    if not done.links:
        warn("thư nhắc chưa kèm đường dẫn tới bảng: đặt status_url của kế hoạch (nơi đăng thư mục này).")
