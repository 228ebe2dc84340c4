"""Which result links the bot may fetch: https only, public addresses only, every redirect checked again.

A result URL comes from the API's answer, so whoever controls the answer (an aggregator, a
compromised mirror) could point the bot at its own network (``http://169.254.169.254/…``, a router,
a database on localhost). So:

* https only. Plain http is allowed only for a loopback test set-up: ``IDEOGRAM_BASE_URL`` is http on
  a loopback host and the result is on that same origin (scheme, host and port).
* Every address a host resolves to must be public (``ipaddress``: not private, loopback, link-local,
  multicast, reserved or unspecified), except again the loopback origin above. The check happens in
  the connector's resolver, and the connector connects to exactly the addresses the resolver
  returned, so a second DNS answer (DNS rebinding) cannot slip a private address in after the check.
  IP literals never reach a resolver (aiohttp connects to them directly), so they are checked here.
* Redirects are followed by hand, at most ``MAX_REDIRECTS``, and each hop is checked like the first
  URL (https, no credentials, public addresses only; the loopback test origin only from itself). A
  hop may go to another host: a signed result link that redirects to a storage or CDN host is
  common, and refusing it would fail every edit, while it reaches nothing the first link could not
  already point at (any public https host). Downloads carry no credentials, so nothing travels with
  it.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from bot.errors import ResultDownloadError
from bot.i18n import msg

MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})


class ResultUrlRefused(ResultDownloadError):
    """The API answered with a result link the bot will not fetch (scheme, address or redirect)."""

    code = "result_url_refused"


def refused(index: int, why: str) -> ResultUrlRefused:
    return ResultUrlRefused(
        msg("download-bad-link"),
        detail=f"result {index}: refused {why}",
    )


class AddressRefused(OSError):
    """Raised by the resolver; aiohttp wraps it in ``ClientConnectorDNSError.os_error``."""


def is_loopback_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def address_problem(address: str) -> str | None:
    """Why ``address`` must not be fetched from, or None when it is a public unicast address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return f"unparseable address {address!r}"
    mapped = getattr(ip, "ipv4_mapped", None)
    if mapped is not None:
        ip = mapped
    for kind in ("loopback", "link_local", "unspecified", "multicast", "reserved", "private"):
        if getattr(ip, f"is_{kind}"):
            return f"{kind.replace('_', '-')} address {ip}"
    if not ip.is_global:
        return f"non-public address {ip}"
    return None


@dataclass(frozen=True, slots=True)
class ResultUrlPolicy:
    """Built from ``IDEOGRAM_BASE_URL``: the one loopback origin (if any) exempt from the rules."""

    loopback_origin: URL | None = None

    @classmethod
    def for_base_url(cls, base_url: str) -> ResultUrlPolicy:
        base = URL(base_url)
        return cls(base.origin() if base.host and is_loopback_host(base.host) else None)

    def is_loopback_origin(self, url: URL) -> bool:
        return self.loopback_origin is not None and url.origin() == self.loopback_origin

    def check(self, index: int, raw: str) -> URL:
        """The URL to fetch, or ``ResultUrlRefused`` saying why not."""
        try:
            url = URL(raw, encoded=True)
        except (ValueError, TypeError):
            raise refused(index, "an unparseable URL") from None
        if not url.host or url.scheme not in ("http", "https"):
            raise refused(index, f"a URL with scheme {url.scheme or '?'!r} (only https)")
        if self.is_loopback_origin(url):
            return url
        if url.scheme != "https":
            raise refused(
                index,
                f"a plain http URL on {url.host} (only https; http only on a loopback IDEOGRAM_BASE_URL's own origin)",
            )
        if url.user or url.password:
            raise refused(index, "a URL with credentials in it")
        try:
            literal = ipaddress.ip_address(url.host.strip("[]"))
        except ValueError:
            literal = None
        if literal is not None and (problem := address_problem(str(literal))):
            raise refused(index, f"a URL on a {problem}")
        return url

    def check_redirect(self, index: int, current: URL, location: str | None) -> URL:
        if not location:
            raise refused(index, "a redirect without a Location")
        try:
            target = current.join(URL(location, encoded=True))
        except (ValueError, TypeError):
            raise refused(index, "a redirect to an unparseable URL") from None
        if self.is_loopback_origin(target) and not self.is_loopback_origin(current):
            raise refused(index, f"a redirect from {current.host} to the loopback test origin")
        if not self.is_loopback_origin(target) and target.scheme != "https":
            raise refused(index, f"a redirect to {target.scheme}:// (only https)")
        return self.check(index, str(target))


class PublicResolver(AbstractResolver):
    """Resolves with aiohttp's default resolver and refuses hosts with any non-public address, so the
    connector only ever connects to checked addresses. ``allowed_hosts`` (the loopback test origin's
    host) skip the check."""

    def __init__(self, allowed_hosts: frozenset[str] = frozenset(), inner: AbstractResolver | None = None) -> None:
        self._inner = inner if inner is not None else aiohttp.DefaultResolver()
        self._allowed = allowed_hosts

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        if host.rstrip(".") in self._allowed:
            return results
        for result in results:
            problem = address_problem(result["host"])
            if problem is not None:
                raise AddressRefused(f"{host} resolves to a {problem}")
        return results

    async def close(self) -> None:
        await self._inner.close()


def download_session(policy: ResultUrlPolicy) -> aiohttp.ClientSession:
    """A session for result downloads only: no cookies, no credentials, checked addresses."""
    origin = policy.loopback_origin
    allowed = frozenset({origin.host}) if origin is not None and origin.host else frozenset()
    connector = aiohttp.TCPConnector(resolver=PublicResolver(allowed))
    return aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), timeout=aiohttp.ClientTimeout(total=None)
    )
