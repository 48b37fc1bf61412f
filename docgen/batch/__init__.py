"""Batch runs and schedules: one spec, many parameter sets, many PDFs — now, or on a cron schedule.

``run_batch`` renders a spec once per row (local process pool or Ray) with skip-if-unchanged and a JSON
manifest; :mod:`docgen.batch.schedule` runs jobs on cron expressions with APScheduler.  Nothing heavy is
imported here: Ray, APScheduler and SQLAlchemy load only when used.
"""
from .runner import BatchReport, DocResult, read_rows, run_batch

__all__ = ["BatchReport", "DocResult", "read_rows", "run_batch"]
