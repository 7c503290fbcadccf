"""Digdag schedules: the cron4j port, the scheduler's rules, words and next runs. Pure."""
