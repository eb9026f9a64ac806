"""Typeset a report's two PDFs in a forked child while this process builds the views (issue 18).

``dxval report`` and ``validate`` spend most of a render in WeasyPrint:
importing it, laying out the pages, painting and writing both PDFs. None of
that needs the report views, only their HTML. :class:`Typesetter` forks a
child early (``dxval report``: before it imports the report code; a render:
before the bundle is read); the child imports WeasyPrint and
:mod:`dxval.report.pdf` and parses the user-agent stylesheet while this
process verifies the bundle and builds the views. This process sends the
print HTML (:meth:`Typesetter.submit`, written by a thread: it is larger than
a pipe holds), then draws the figures and sends them
(:meth:`Typesetter.send_figures`) while the child lays the HTML out; the
layout takes each figure when it first sizes it. The child writes both PDFs
(the evidence files compressed on its own worker thread, the PDF/A-2b by a
forked copy of itself) and hands back their bytes. Meanwhile this process
renders the screen HTML and the model card. The child ends with ``os._exit``
once it has written its answer: the laid-out document (hundreds of thousands
of objects) is never collected or torn down.

The PDFs are those :func:`typeset` writes in process (the same function
runs in the child; ``tests/report/test_typesetter.py`` compares the bytes).
An error in the child comes back as the same exception when it can be
pickled, else as a RuntimeError naming it (exit 70, as an uncaught error of
WeasyPrint in process); figures that never come are an error, never a PDF
without them. Where ``os.fork`` does not exist the work is done in process,
when :meth:`Typesetter.result` is called.
"""

from __future__ import annotations

import os
import pickle
import queue
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from dxval.report.pdf import FigureSource

Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class TypesetJob:
    """What the child needs: the print HTML, the run's time, templates, evidence to attach."""

    html: str
    moment: datetime
    templates: Path | None
    bundle: Path
    attached: tuple[str, ...]
    descriptions: tuple[tuple[str, str], ...] = ()  # of the attached files, in the PDF


def typeset(
    job: TypesetJob, progress: Progress, figures: FigureSource | None = None, *, fork: bool = False
) -> tuple[bytes, bytes]:
    """``report.pdf`` and ``report-submission.pdf`` of ``job``, in this process.

    ``figures``: the SVG of each figure by its print URL, asked for when the layout needs them.
    ``fork``: the two PDFs are written at once, one by a forked copy (the typesetting child).
    """
    from dxval.report.pdf import evidence_attachments, layout, no_figures, write_both_pdfs

    descriptions = dict(job.descriptions)
    attachments = evidence_attachments(job.bundle, job.moment, job.attached, descriptions)
    document = layout(job.html, job.moment, job.templates, figures or no_figures)
    progress(f"writing report.pdf and report-submission.pdf ({len(document.pages)} pages)")
    return write_both_pdfs(document, attachments=attachments, moment=job.moment, fork=fork)


class Typesetter:
    """A child process that typesets one report; use it as a context manager.

    ``progress`` is called by the child too (the line with the page count);
    it writes to the same standard error.
    """

    def __init__(self, progress: Progress, *, fork: bool = True) -> None:
        self._progress = progress
        self._pid: int | None = None
        self._job: TypesetJob | None = None
        self._figures: Mapping[str, bytes] | None = None
        self._outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._writer: threading.Thread | None = None
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
        """Hand ``job`` to the child (without one: keep it for :meth:`result`).

        The child starts on the HTML at once; its figures follow (:meth:`send_figures`).
        """
        self._job = job
        if self._pid is None:
            return
        # a thread writes: the HTML is larger than a pipe holds, and the child may still be
        # importing WeasyPrint; meanwhile this process draws the figures
        stream = os.fdopen(self._jobs, "wb")
        self._jobs = -1
        self._writer = threading.Thread(
            target=_write_all, args=(stream, self._outbox), name="dxval-typeset-jobs"
        )
        self._writer.daemon = True
        self._writer.start()
        self._send(job)

    def send_figures(self, figures: Mapping[str, bytes]) -> None:
        """Hand the child the SVG of each figure by its print URL, the last message: the
        child reads them when its layout first sizes a figure (the writer thread waits)."""
        self._figures = figures
        self._send(figures)
        if self._writer is not None:
            self._outbox.put(None)  # then the writer closes the pipe

    def _send(self, message: object) -> None:
        if self._writer is not None:
            self._outbox.put(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def _stop_sending(self) -> None:
        """Close the child's job pipe once everything sent is written (or the child is gone)."""
        if self._writer is not None:
            self._outbox.put(None)  # a second None after send_figures' is never read
            self._writer.join()
            self._writer = None

    def _sent_figures(self) -> Mapping[str, bytes]:
        if self._figures is None:
            raise RuntimeError("the report's figures were not sent for typesetting")
        return self._figures

    def result(self) -> tuple[bytes, bytes]:
        """Both PDFs of the submitted job: from the child, or typeset here without one."""
        if self._job is None:
            raise RuntimeError("no report was submitted for typesetting")
        if self._pid is None:
            return typeset(self._job, self._progress, self._sent_figures)
        self._stop_sending()  # figures never sent: the child's wait for them ends
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
        if unused and self._pid is not None:
            os.kill(self._pid, signal.SIGTERM)  # an error before the PDFs: do not wait for it
        self._stop_sending()  # the child is gone or reads to the end: the writer ends
        for descriptor in (self._jobs, self._answers):
            if descriptor >= 0:
                os.close(descriptor)
        self._jobs = self._answers = -1
        self._reap()

    def _reap(self) -> None:
        if self._pid is not None:
            os.waitpid(self._pid, 0)
            self._pid = None


def _write_all(stream: BinaryIO, outbox: queue.SimpleQueue[bytes | None]) -> None:
    """Write each message of ``outbox`` to ``stream`` until ``None``; then close it."""
    try:
        while (message := outbox.get()) is not None:
            stream.write(message)
            stream.flush()
    except BrokenPipeError:  # the child failed before reading everything; its answer says why
        pass
    finally:
        with suppress(BrokenPipeError):
            stream.close()


def _child(jobs: int, answers: int, progress: Progress) -> None:
    """Warm up WeasyPrint, typeset the job read from ``jobs``, answer on ``answers``, exit."""
    status = 0
    stream = os.fdopen(jobs, "rb")
    received: list[Mapping[str, bytes]] = []

    def figures() -> Mapping[str, bytes]:
        """The figures the parent sends after the job, read when first asked for."""
        if not received:
            try:
                received.append(pickle.load(stream))  # noqa: S301  # our own parent's bytes
            except EOFError:
                raise RuntimeError("the report's figures did not reach the typesetter") from None
        return received[0]

    try:
        try:
            from dxval.report.user_agent import scoped_user_agent

            scoped_user_agent()  # imports WeasyPrint and parses its stylesheet
            import dxval.report.pdf  # noqa: F401  # what typeset() uses, ready before the job

            try:
                job: TypesetJob = pickle.load(stream)  # noqa: S301  # our own parent's bytes
            except EOFError:  # the parent needed no PDF (e.g. a template error): nothing to say
                os._exit(0)
            answer: Sequence[Any] = ("pdfs", *typeset(job, progress, figures, fork=True))
        except BaseException as error:  # everything goes back to the parent, which raises it
            answer = ("error", picklable(error), "".join(traceback.format_exception(error)))
        # read what is left of the parent's messages first: it writes them before it reads
        # the answer, and neither would get past a full pipe
        with suppress(Exception):
            stream.read()
        stream.close()
        with os.fdopen(answers, "wb") as out:
            out.write(pickle.dumps(tuple(answer), protocol=pickle.HIGHEST_PROTOCOL))
    except BaseException:  # the parent sees no answer and says so
        status = 1
    os._exit(status)


def picklable(error: BaseException) -> BaseException | None:
    """``error`` if it survives pickling (it can be raised in another process), else None."""
    try:
        pickle.loads(pickle.dumps(error))  # noqa: S301  # made just here
    except Exception:  # not every exception survives pickling
        return None
    return error
