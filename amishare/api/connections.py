"""uvicorn's httptools protocol with the limits a public endpoint needs: a client
must finish sending its request headers within the read timeout (uvicorn itself
waits forever), and connections beyond the limit are closed at once."""

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from amishare.config import Settings

_SETTINGS = Settings()


class GuardedHttpProtocol(HttpToolsProtocol):
    _header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        if len(self.connections) > _SETTINGS.max_connections:
            transport.close()
            return
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(_SETTINGS.read_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()
