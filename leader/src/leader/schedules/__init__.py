"""Schedules: triggers (`triggers`, `cron`), what an action asks for (`actions`), one firing (`fire`), and the
scheduler in the leader worker that follows the store (`runner`). Routes: `leader.api.schedules`; rows:
`leader.db.schedules`."""
