"""Mail to the letter of its standard (issue 24, item 8): every RFC 2047 encoded-word at most
75 characters, every header line at most 78, and a reader gets back the Vietnamese exactly."""

import email
import re
from email.policy import default

from tasks.delivery import from_address
from tasks.mime import build, encoded_words, message_id
from tasks.settings import Settings
from tests.helpers import round_mails, shown_name

ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def test_every_encoded_word_is_at_most_75_characters_and_reads_back_as_written(sample, plan, tmp_path):
    settings = Settings(data_dir=tmp_path / "var")
    mails, _ = round_mails(sample, plan, "overdue-1", (2021, 6, 21, 8))
    assert mails
    for mail in mails:
        sender = from_address(settings, mail)
        data = build(
            mail, sender, "Sở Tư pháp tỉnh Yên Bái (hệ thống thi đua)", message_id(mail.key, sender), None
        ).data
        head = data.split(b"\r\n\r\n", 1)[0]
        words = ENCODED_WORD.findall(head)
        assert words and max(len(w) for w in words) <= 75, max(words, key=len)
        assert max(len(line) for line in head.split(b"\r\n")) <= 78
        msg = email.message_from_bytes(data, policy=default)
        assert msg["Subject"] == mail.subject
        assert [(shown_name(a), a.addr_spec) for a in msg["To"].addresses] == list(mail.to)
        assert [(shown_name(a), a.addr_spec) for a in msg["Cc"].addresses] == list(mail.cc)
        assert shown_name(msg["From"].addresses[0]) == "Sở Tư pháp tỉnh Yên Bái (hệ thống thi đua)"


def test_a_long_subject_or_name_is_cut_into_words_of_at_most_75_characters_never_inside_a_character():
    text = ("Cục Thi hành án dân sự tỉnh Điện Biên – Phòng Tổ chức cán bộ, Văn phòng Cục " * 2).strip()
    for phrase in (False, True):
        words = encoded_words(text, phrase).split(" ")
        assert len(words) > 2 and all(len(w) <= 75 for w in words)
    msg = email.message_from_bytes(
        f"Subject: {encoded_words(text)}\r\nTo: {encoded_words(text, True)} <a@b.example>\r\n\r\n".encode(),
        policy=default,
    )
    assert msg["Subject"] == text and shown_name(msg["To"].addresses[0]) == text
