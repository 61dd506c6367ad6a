"""A NATS server with JetStream for the tests (127.0.0.1:4222, or DISPUTES_TEST_NATS_URL): a stream and
subject prefix of each test's own, deleted afterwards. Without a server the tests are skipped, and fail
under CI=true; start one with ``nats-server -js`` (Debian: ``apt-get install nats-server``)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

NATS_URL = os.environ.get("DISPUTES_TEST_NATS_URL", "nats://127.0.0.1:4222")


def _reachable(url: str) -> bool:
    host, _, port = url.removeprefix("nats://").partition(":")
    try:
        with socket.create_connection((host, int(port or 4222)), timeout=1):
            return True
    except OSError:
        return False


@dataclass(frozen=True)
class Stream:
    url: str
    name: str
    prefix: str

    def settings(self) -> dict[str, str]:
        """The settings that publish to this stream."""
        return {"nats_url": self.url, "nats_stream": self.name, "nats_subject_prefix": self.prefix}

    def env(self) -> dict[str, str]:
        return {"DISPUTES_NATS_URL": self.url, "DISPUTES_NATS_STREAM": self.name,
                "DISPUTES_NATS_SUBJECT_PREFIX": self.prefix}

    def messages(self) -> list[Any]:
        return asyncio.run(self._messages())

    async def _messages(self) -> list[Any]:
        import nats

        nc = await nats.connect(self.url)
        try:
            js = nc.jetstream()
            info = await js.stream_info(self.name)
            return [await js.get_msg(self.name, seq=seq) for seq in range(1, int(info.state.last_seq or 0) + 1)]
        finally:
            await nc.close()

    def create(self, duplicate_window: float) -> None:
        async def create() -> None:
            import nats

            nc = await nats.connect(self.url)
            try:
                await nc.jetstream().add_stream(
                    name=self.name, subjects=[f"{self.prefix}.>"], duplicate_window=duplicate_window
                )
            finally:
                await nc.close()

        asyncio.run(create())

    def delete(self) -> None:
        async def delete() -> None:
            import nats
            from nats.js.errors import NotFoundError

            nc = await nats.connect(self.url)
            try:
                await nc.jetstream().delete_stream(self.name)
            except NotFoundError:
                pass
            finally:
                await nc.close()

        asyncio.run(delete())


@pytest.fixture(name="stream")
def stream_fixture() -> Iterator[Stream]:
    """A stream of the test's own (import ``stream_fixture``; tests ask for ``stream``)."""
    if not _reachable(NATS_URL):
        message = (
            f"no NATS server at {NATS_URL}: start one with JetStream, `nats-server -js` "
            "(Debian: apt-get install nats-server), or set DISPUTES_TEST_NATS_URL"
        )
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true and {message}", pytrace=False)
        pytest.skip(message)
    tag = uuid.uuid4().hex[:12]
    made = Stream(NATS_URL, f"DISPUTES_T{tag}", f"t{tag}")
    try:
        yield made
    finally:
        made.delete()




def published(stream: Stream) -> list[tuple[str, str, int]]:
    found = []
    for message in stream.messages():
        event = json.loads(message.data)
        assert message.headers["Nats-Msg-Id"] == event["id"]
        found.append((message.subject, event["id"], int(event["sequence"])))
    return found
