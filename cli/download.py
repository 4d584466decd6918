"""Fetching a file through its pre-signed URL, with a progress bar: a plain HTTP GET, no
token of ours (the URL itself is the permission)."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from cli.exit_codes import JobUnsuccessful, ServiceUnreachable

CHUNK_BYTES = 64 * 1024


def output_path(output: str, file_name: str) -> Path:
    """`--output` names a file, or a folder (existing, or written with a trailing `/`) to
    save the file under its own name."""
    path = Path(output).expanduser()
    if path.is_dir() or output.endswith(("/", os.sep)):
        return path / Path(file_name).name
    return path


def download(url: str, destination: Path, label: str, console: Console) -> int:
    """Streams to a temporary name and renames at the end: an interrupted download never
    leaves a truncated file under the final name."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(destination.name + ".part")
    written = 0
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    try:
        with httpx.stream("GET", url, timeout=60.0, follow_redirects=True) as response:
            if response.status_code != 200:
                raise JobUnsuccessful("download_failed", status=response.status_code)
            total = int(response.headers.get("content-length") or 0) or None
            with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as progress, \
                 partial.open("wb") as stream:
                task = progress.add_task(label, total=total)
                for chunk in response.iter_bytes(CHUNK_BYTES):
                    stream.write(chunk)
                    written += len(chunk)
                    progress.update(task, advance=len(chunk))
    except httpx.TransportError as error:
        partial.unlink(missing_ok=True)
        raise ServiceUnreachable(
            "service_unreachable", service="S3", url=url.split("?")[0], reason=type(error).__name__
        ) from error
    partial.replace(destination)
    return written
