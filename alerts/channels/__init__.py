"""Alert channels: e-mail (SMTP), webhook, syslog and a JSON-lines file, one per module,
sharing the small interface in :mod:`alerts.channels.interface`."""

from alerts.channels.config import KINDS, build_channel, build_channels
from alerts.channels.file import FileChannel
from alerts.channels.interface import Channel, ChannelError
from alerts.channels.smtp import SmtpChannel
from alerts.channels.syslog import SyslogChannel
from alerts.channels.webhook import WebhookChannel

__all__ = [
    "KINDS",
    "Channel",
    "ChannelError",
    "FileChannel",
    "SmtpChannel",
    "SyslogChannel",
    "WebhookChannel",
    "build_channel",
    "build_channels",
]
