"""A broker that hangs (accepts connections, never answers) must not hold a resident's request.

No Redis is needed: the "broker" is a socket that listens and never replies, like a Redis that is
overloaded or behind a dead NAT entry. A refused connection fails at once anyway (see
test_celery_worker); a hung one waits for whatever socket timeout the transport has.
"""

import socket
import threading
import time

from diagnosis.services import concern_enqueue_processing

from .conftest import celery_publishing_to


def test_request_for_processing_gives_up_quickly_when_the_broker_hangs():
    outcome = {}

    def enqueue():
        outcome["requested"] = concern_enqueue_processing(concern_id=1)

    with socket.socket() as hung_broker:
        hung_broker.bind(("127.0.0.1", 0))
        hung_broker.listen(16)
        port = hung_broker.getsockname()[1]
        with celery_publishing_to(f"redis://127.0.0.1:{port}/0", queue="convive-test-hung"):
            caller = threading.Thread(target=enqueue, daemon=True)
            started = time.monotonic()
            caller.start()
            caller.join(timeout=10)
            waited = time.monotonic() - started
            still_waiting = caller.is_alive()
        # Closing the socket releases the caller if it is still stuck.

    assert not still_waiting, "the request waited for the hung broker for 10 s or more"
    assert outcome["requested"] is False
    assert waited < 3.0
