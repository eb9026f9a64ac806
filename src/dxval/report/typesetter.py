"""Typeset a report's two PDFs in a forked child while this process builds the views (issue 18).

``dxval report`` and ``validate`` spend most of a render in WeasyPrint:
importing it, laying out the pages, painting and writing both PDFs. None of
that needs the report views, only their HTML. :class:`Typesetter` forks a
child before the bundle is read; the child imports WeasyPrint and parses the
user-agent stylesheet while this process reads the bundle and builds the
views and figures, then lays out the HTML it is sent and writes both PDFs
(the evidence files compressed on its own worker thread), and hands back
their bytes. Meanwhile this process renders the screen HTML and the model
card. The child ends with ``os._exit`` once it has written its answer: the
laid-out document (hundreds of thousands of objects) is never collected or
torn down. On the demo report this saves about 1.2 s of 8.4.

The PDFs are those :func:`typeset` writes in process (the same function
runs in the child; ``tests/report/test_typesetter.py`` compares the bytes).
An error in the child comes back as the same exception when it can be
pickled, else as a RuntimeError naming it (exit 70, as an uncaught error of
WeasyPrint in process). Where ``os.fork`` does not exist the work is done in
process, when :meth:`Typesetter.result` is called.
"""

from __future__ import annotations

import os
import pickle
import signal
import sys
import traceback
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class TypesetJob:
    """What the child needs: the print HTML, the run's time, templates, evidence to attach."""

    html: str
    moment: datetime
    templates: Path | None
    bundle: Path
    attached: tuple[str, ...]


def typeset(job: TypesetJob, progress: Progress) -> tuple[bytes, bytes]:
    """``report.pdf`` and ``report-submission.pdf`` of ``job``, in this process."""
    from dxval.report.render import evidence_attachments, layout, write_both_pdfs

    attachments = evidence_attachments(job.bundle, job.moment, job.attached)  # zlib meanwhile
    document = layout(job.html, job.moment, job.templates)
    progress(f"writing report.pdf and report-submission.pdf ({len(document.pages)} pages)")
    return write_both_pdfs(document, attachments=attachments, moment=job.moment)


class Typesetter:
    """A child process that typesets one report; use it as a context manager.

    ``progress`` is called by the child too (the line with the page count);
    it writes to the same standard error.
    """

    def __init__(self, progress: Progress, *, fork: bool = True) -> None:
        self._progress = progress
        self._pid: int | None = None
        self._job: TypesetJob | None = None
        self._jobs = self._answers = -1
        if not fork or not hasattr(os, "fork"):
            return
        jobs_read, jobs_write = os.pipe()
        answers_read, answers_write = os.pipe()
        sys.stdout.flush()  # nothing buffered before the fork is written twice
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(jobs_write)
            os.close(answers_read)
            _child(jobs_read, answers_write, progress)
        os.close(jobs_read)
        os.close(answers_write)
        self._pid, self._jobs, self._answers = pid, jobs_write, answers_read

    def __enter__(self) -> Typesetter:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def submit(self, job: TypesetJob) -> None:
        """Hand ``job`` to the child (without one: keep it for :meth:`result`)."""
        self._job = job
        if self._pid is None:
            return
        with os.fdopen(self._jobs, "wb") as jobs:
            self._jobs = -1
            # a broken pipe: the child failed before reading the job; its answer says why
            with suppress(BrokenPipeError):
                jobs.write(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))

    def result(self) -> tuple[bytes, bytes]:
        """Both PDFs of the submitted job: from the child, or typeset here without one."""
        if self._job is None:
            raise RuntimeError("no report was submitted for typesetting")
        if self._pid is None:
            return typeset(self._job, self._progress)
        with os.fdopen(self._answers, "rb") as answers:
            self._answers = -1
            answer = answers.read()
        self._reap()
        if not answer:
            raise RuntimeError("the report's typesetting process ended without an answer")
        kind, *content = pickle.loads(answer)  # noqa: S301  # our own child's bytes
        if kind == "pdfs":
            report_pdf, submission_pdf = content
            return report_pdf, submission_pdf
        error, text = content
        if isinstance(error, BaseException):
            raise error
        raise RuntimeError(f"typesetting the report failed: {text.strip().splitlines()[-1]}")

    def close(self) -> None:
        """End the child if it is still there (no job, or no answer wanted) and wait for it."""
        unused = self._pid is not None and self._answers >= 0
        for descriptor in (self._jobs, self._answers):
            if descriptor >= 0:
                os.close(descriptor)
        self._jobs = self._answers = -1
        if unused and self._pid is not None:
            os.kill(self._pid, signal.SIGTERM)  # an error before the PDFs: do not wait for it
        self._reap()

    def _reap(self) -> None:
        if self._pid is not None:
            os.waitpid(self._pid, 0)
            self._pid = None


def _child(jobs: int, answers: int, progress: Progress) -> None:
    """Warm up WeasyPrint, typeset the job read from ``jobs``, answer on ``answers``, exit."""
    status = 0
    try:
        try:
            from dxval.report.user_agent import scoped_user_agent

            scoped_user_agent()  # imports WeasyPrint and parses its stylesheet
            with os.fdopen(jobs, "rb") as stream:
                data = stream.read()
            if not data:  # the parent needed no PDF (e.g. a template error): nothing to say
                os._exit(0)
            job: TypesetJob = pickle.loads(data)  # noqa: S301  # our own parent's bytes
            answer: Sequence[Any] = ("pdfs", *typeset(job, progress))
        except BaseException as error:  # everything goes back to the parent, which raises it
            answer = ("error", _picklable(error), "".join(traceback.format_exception(error)))
        with os.fdopen(answers, "wb") as stream:
            stream.write(pickle.dumps(tuple(answer), protocol=pickle.HIGHEST_PROTOCOL))
    except BaseException:  # the parent sees no answer and says so
        status = 1
    os._exit(status)


def _picklable(error: BaseException) -> BaseException | None:
    try:
        pickle.loads(pickle.dumps(error))  # noqa: S301  # made just here
    except Exception:  # not every exception survives pickling
        return None
    return error
