"""The milestone flow under a real (temporary) Prefect server: mail written, artifacts published."""

import email
import json
from email.policy import default

from prefect.artifacts import Artifact

from flows.milestone import milestone_round


def test_round_writes_mail_and_publishes_artifacts(prefect_server, tmp_path):
    summary = milestone_round("so-ket", "before-1", at="2021-06-18T08:00")
    # 7 reminders, and 2 notices to units owing nothing but with a problem (Sơn La's 5 pages,
    # Yên Bái's report sent twice)
    assert summary.owing == 7 and len(summary.units.sent) == 7 + 2 and summary.digest_sent
    assert {"STP-SLA", "THADS-YBA"} <= set(summary.units.sent)
    outbox = tmp_path / "var" / "outbox" / "kvtd-tp-mnpb-2021" / "so-ket" / "before-1"
    reminded = [u for u in summary.units.sent if u not in ("STP-SLA", "THADS-YBA")]
    assert sorted(p.stem for p in outbox.glob("*.eml")) == sorted([*reminded, "digest"])
    digest = email.message_from_bytes((outbox / "digest.eml").read_bytes(), policy=default)
    assert "21/28 đơn vị đủ hồ sơ" in digest["Subject"]

    table = Artifact.get("kvtd-tp-mnpb-2021-so-ket-completeness")
    assert table is not None and table.type == "table"
    rows = {r["Đơn vị"]: r for r in json.loads(table.data)}
    assert len(rows) == 28
    assert rows["Sở Tư pháp tỉnh Bắc Kạn"]["Tình trạng"] == "Chưa đủ"
    assert rows["Sở Tư pháp tỉnh Bắc Kạn"]["Còn thiếu"] == "Báo cáo tóm tắt"
    summary_md = Artifact.get("kvtd-tp-mnpb-2021-so-ket-round")
    assert summary_md.type == "markdown"
    assert "## Đã gửi thư" in summary_md.data and "Sở Tư pháp tỉnh Lai Châu" in summary_md.data
    assert "Hà Tây" in summary_md.data  # the rejected row is shown to coordinators

    again = milestone_round("so-ket", "before-1", at="2021-06-18T08:00")
    assert again.units.sent == [] and sorted(again.units.already_sent) == sorted(summary.units.sent)
    assert not again.digest_sent and again.digest.already_sent == ["digest"]


def test_dry_run_sends_and_records_nothing(prefect_server, tmp_path):
    summary = milestone_round("so-ket", "overdue-1", at="2021-06-21T08:00", dry_run=True)
    # the overdue notices, the digest, and the 2 notices of a problem (see above)
    assert summary.units.sent == [] and summary.previews == summary.owing + 1 + 2
    assert not (tmp_path / "var" / "outbox").exists()
    assert "CHẠY THỬ" in Artifact.get("kvtd-tp-mnpb-2021-so-ket-round").data


def test_failed_round_alerts_the_active_coordinators(prefect_server, tmp_path, monkeypatch, plan):
    monkeypatch.setenv("THIDUA_SOURCE", str(tmp_path / "mat-tep.xlsx"))
    state = milestone_round("so-ket", "before-1", at="2021-06-18T08:00", return_state=True)
    assert state.is_failed()
    # the run's page says it in the project's words, not "Flow run encountered an exception: …"
    assert state.message.startswith("Chưa có tệp bảng tính") and "mat-tep.xlsx" in state.message
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

    with get_client(sync_client=True) as client:  # and the run's Artifacts tab says what to do
        run_id = state.state_details.flow_run_id
        (failure,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    assert failure.data.startswith("# Không chạy xong") and "bấm *Retry*" in failure.data
    (alert,) = (tmp_path / "var" / "outbox").rglob("alert-*.eml")
    msg = email.message_from_bytes(alert.read_bytes(), policy=default)
    assert msg["Subject"].endswith(
        "LỖI: đợt nhắc trước hạn 1 ngày, Sơ kết 6 tháng (Thứ Sáu 18/06/2021) không chạy xong"
    )
    assert sorted(a.addr_spec for a in msg["To"].addresses) == sorted(
        str(c.email) for c in plan.active_contacts
    )
    body = msg.get_body(("plain",)).get_content()
    assert "Chưa có tệp bảng tính" in body and "mat-tep.xlsx" in body
