"""One TLS context per process for the httpx-based SDK clients.

Building a TLS context loads the whole CA bundle (about 24 ms and 22,000 allocations here),
and every task builds its own SDK client: a million-interview run built dozens. A context is
safe to share between clients and threads; this one is made by the function the SDKs' HTTP
library (httpx2) uses for its own default, so trust is what each client would have had alone
(its CA bundle, `SSL_CERT_FILE`/`SSL_CERT_DIR` honoured).
"""

from __future__ import annotations

import functools
import ssl


@functools.cache
def shared_ssl_context() -> ssl.SSLContext:
    """The process's TLS context for the Anthropic and OpenAI SDK clients."""
    import httpx2

    return httpx2.create_ssl_context()
