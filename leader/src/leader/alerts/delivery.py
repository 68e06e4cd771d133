"""Sending one alert delivery: a JSON POST to a webhook or an e-mail over SMTP, always with a timeout.

`attempt(db, cfg, due)` sends once and records the outcome (status code or reason, duration); after a
failure it schedules the next try with exponential backoff (`ALERTS_RETRY_BASE` * 2^tries, at most
`ALERTS_RETRY_MAX`) until `ALERTS_MAX_ATTEMPTS` tries, then the delivery is `failed` for good.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import time
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

import urllib3

from cluster_schema import codec
from cluster_schema.alerts import Alert, EmailChannel, WebhookPayload

from ..db import alert_rules as rules_db
from ..db import alerts as alerts_db

log = logging.getLogger("leader.alerts")

_pool = urllib3.PoolManager(num_pools=16, maxsize=4, retries=False)


class Failed(Exception):
    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


def post_webhook(url: str, body: bytes, timeout: float) -> int:
    try:
        resp = _pool.request(
            "POST",
            url,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": "pioreactor-leader-alerts"},
            timeout=urllib3.Timeout(connect=min(timeout, 5.0), read=timeout),
            redirect=False,
            preload_content=True,
        )
    except urllib3.exceptions.NewConnectionError as exc:  # (a subclass of the timeout errors)
        raise Failed(f"cannot reach the webhook: {exc}") from None
    except urllib3.exceptions.TimeoutError:
        raise Failed(f"timed out after {timeout:g} s") from None
    except urllib3.exceptions.HTTPError as exc:
        raise Failed(f"cannot reach the webhook: {exc}") from None
    if not 200 <= resp.status < 300:
        text = resp.data[:200].decode("utf-8", "replace").strip()
        raise Failed(f"HTTP {resp.status}" + (f": {text}" if text else ""), resp.status)
    return int(resp.status)


def send_email(channel: EmailChannel, password: str, msg: EmailMessage, timeout: float) -> int:
    """Send over SMTP; STARTTLS when offered (`auto`), required (`always`) or never. Answers 250."""
    try:
        smtp_cls = smtplib.SMTP_SSL if channel.port == 465 else smtplib.SMTP
        with smtp_cls(channel.host, channel.port, timeout=timeout) as smtp:
            smtp.ehlo()
            if channel.port != 465 and channel.starttls != "never":
                if smtp.has_extn("starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                    smtp.ehlo()
                elif channel.starttls == "always":
                    raise Failed("the SMTP server does not offer STARTTLS (starttls = always)")
            if channel.username:
                smtp.login(channel.username, password)
            refused = smtp.send_message(msg)
            if refused:
                raise Failed(f"recipients refused: {', '.join(refused)}")
    except smtplib.SMTPResponseException as exc:
        text = (
            exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
        )
        raise Failed(f"SMTP {exc.smtp_code}: {text}", exc.smtp_code) from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise Failed(f"recipients refused: {', '.join(exc.recipients)}") from None
    except TimeoutError:
        raise Failed(f"SMTP timed out after {timeout:g} s") from None
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise Failed(f"SMTP error: {exc}") from None
    return 250


def email_message(alert: Alert, event: str, channel: EmailChannel, cluster: str) -> EmailMessage:
    word = {"fired": "FIRING", "resolved": "RESOLVED", "test": "TEST"}.get(event, event.upper())
    msg = EmailMessage()
    msg["Subject"] = f"[Pioreactor{' ' + cluster if cluster else ''}] {word}: {alert.summary}"
    msg["From"] = channel.sender
    msg["To"] = ", ".join(channel.to)
    lines = [
        f"{word}: {alert.summary}",
        "",
        f"kind: {alert.kind}",
        f"severity: {alert.severity}",
        f"fired at: {alert.fired_at}",
    ]
    if alert.resolved_at and event == "resolved":
        lines.append(f"resolved at: {alert.resolved_at}")
    lines += [f"{k}: {v}" for k, v in alert.details.items()]
    msg.set_content("\n".join(lines) + "\n")
    return msg


def _backoff(cfg: Mapping[str, Any], tries: int) -> float | None:
    """When to try again after `tries` failed attempts; None when out of attempts."""
    if tries >= int(cfg.get("ALERTS_MAX_ATTEMPTS", 8)):
        return None
    base = float(cfg.get("ALERTS_RETRY_BASE", 5.0))
    return time.time() + min(base * 2 ** (tries - 1), float(cfg.get("ALERTS_RETRY_MAX", 600.0)))


def attempt(db: Any, cfg: Mapping[str, Any], due: alerts_db.Due) -> bool:
    """Send one delivery once and record it. Answers whether it was delivered."""
    delivery_id, alert_id, event, channel, target, tries = due
    alert = alerts_db.get(db, alert_id)
    timeout = float(cfg.get("ALERTS_SEND_TIMEOUT", 10.0))
    t0 = time.monotonic()
    code: int | None = None
    try:
        if alert is None:
            raise Failed("the alert no longer exists")
        alert.deliveries = []
        cluster = str(cfg.get("ALERTS_CLUSTER_NAME", ""))
        if channel == "webhook":
            payload = WebhookPayload(event=event, alert=alert, cluster=cluster)  # type: ignore[arg-type]
            code = post_webhook(target, codec.encode(payload), timeout)
        else:
            email = rules_db.channels(db).email
            if email is None or not email.enabled:
                raise Failed("no e-mail channel is configured any more")
            password = email.password or str(cfg.get("ALERTS_SMTP_PASSWORD") or "")
            code = send_email(email, password, email_message(alert, event, email, cluster), timeout)
        ok, reason = True, "delivered" if channel == "email" else f"HTTP {code}"
    except Failed as exc:
        ok, reason, code = False, exc.reason, exc.code
    except Exception as exc:  # a bug must not lose the delivery: record it and retry
        log.exception("alerts: delivery %d failed unexpectedly", delivery_id)
        ok, reason = False, f"{type(exc).__name__}: {exc}"
    duration = int((time.monotonic() - t0) * 1000)
    retry_at = None if ok else _backoff(cfg, tries + 1)
    alerts_db.record_attempt(db, delivery_id, ok, code, reason, duration, retry_at)
    if not ok:
        log.warning(
            "alerts: %s delivery to %s failed (%s)%s",
            channel,
            target,
            reason,
            "; will retry" if retry_at is not None else "; giving up",
        )
    return ok
