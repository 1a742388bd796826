"""chute.producer: KafkaProducer, kafka-python's producer API over chute.

The C half (chute._chute.Producer) holds the libchute handle and does
send(); this half takes the settings, runs the callback thread and gives
flush(), close(), partitions_for() and metrics() their kafka-python shape.
"""
from __future__ import annotations

import atexit
import os
import logging
import threading
import warnings
import weakref
from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from chute import _chute
from chute.errors import KafkaConfigurationError, KafkaTimeoutError

log = logging.getLogger(__name__)

Serializer = Optional[Callable[[Any], Optional[bytes]]]


class ChuteConfigWarning(UserWarning):
    """A kafka-python setting that chuted owns was given and is ignored."""


# kafka-python 2.0.2's producer settings.  Those in _OWN act here; the rest
# belong to chuted (its configuration file: bootstrap.servers, acks,
# compression, batching, retries, timeouts, TLS, ...) and are ignored.
KAFKA_PYTHON_CONFIGS = frozenset("""
    bootstrap_servers client_id key_serializer value_serializer acks
    bootstrap_topics_filter compression_type retries batch_size linger_ms
    partitioner buffer_memory connections_max_idle_ms max_block_ms
    max_request_size metadata_max_age_ms retry_backoff_ms request_timeout_ms
    receive_buffer_bytes send_buffer_bytes socket_options sock_chunk_bytes
    sock_chunk_buffer_count reconnect_backoff_ms reconnect_backoff_max_ms
    max_in_flight_requests_per_connection security_protocol ssl_context
    ssl_check_hostname ssl_cafile ssl_certfile ssl_keyfile ssl_crlfile
    ssl_password ssl_ciphers api_version api_version_auto_timeout_ms
    metric_reporters metrics_num_samples metrics_sample_window_ms selector
    sasl_mechanism sasl_plain_username sasl_plain_password
    sasl_kerberos_service_name sasl_kerberos_domain_name
    sasl_oauth_token_provider""".split())
_OWN = frozenset({"key_serializer", "value_serializer", "max_block_ms",
                  "partitioner"})


def _callback_failed(kind: str, exc: BaseException) -> None:
    """Logs a callback that raised, as kafka-python does."""
    logging.getLogger("chute.future").error(
        "Error processing %s", kind, exc_info=exc)


class KafkaProducer(_chute.Producer):
    """A Kafka producer with kafka-python's API whose records go through
    the host's chute service (chuted) instead of a connection of its own.

    ``instance`` names the chute instance (None: $CHUTE_INSTANCE, else
    "default").  Keys and
    values are bytes, or what ``key_serializer`` / ``value_serializer`` make
    bytes.  ``max_block_ms`` (default 60000, as kafka-python) bounds how long
    send() waits while chute's ring is full; 0 never waits (chute's
    queue.full.policy=fail).  ``partitioner`` is called as in kafka-python
    if given; by default chute picks the partition of a keyed record as
    Kafka's Java client and kafka-python do (murmur2).  Every other
    kafka-python setting belongs to chuted: it is accepted and ignored, with
    one ChuteConfigWarning; an unknown setting raises
    KafkaConfigurationError.

    Each producer takes one of its user's 32 delivery-report rings of the
    instance (and one more in each process that uses it after a fork); a
    9th raises ServiceCapacityError.  Safe to use from many threads, and in the child
    of a fork (it opens the child's own client there).
    """

    def __init__(self, instance: Optional[str] = None,
                 key_serializer: Serializer = None,
                 value_serializer: Serializer = None,
                 **configs: Any) -> None:
        if instance is None:
            instance = os.environ.get("CHUTE_INSTANCE") or None
        unknown = sorted(set(configs) - KAFKA_PYTHON_CONFIGS)
        if unknown:
            raise KafkaConfigurationError(
                "unknown settings: %s" % ", ".join(unknown))
        ignored = sorted(set(configs) - _OWN)
        if ignored:
            warnings.warn(ChuteConfigWarning(
                "chute: %s belong%s to chuted (its configuration) and "
                "%s ignored" % (", ".join(ignored),
                                "s" if len(ignored) == 1 else "",
                                "is" if len(ignored) == 1 else "are")),
                stacklevel=2)
        if key_serializer is None:
            key_serializer = configs.get("key_serializer")
        if value_serializer is None:
            value_serializer = configs.get("value_serializer")
        max_block_ms = configs.get("max_block_ms", 60000)
        if not isinstance(max_block_ms, int) or max_block_ms < 0:
            raise KafkaConfigurationError(
                "max_block_ms must be an int >= 0, not %r" % (max_block_ms,))
        self.config: Dict[str, Any] = dict(
            configs, instance=instance, key_serializer=key_serializer,
            value_serializer=value_serializer, max_block_ms=max_block_ms)
        self._thread: Optional[threading.Thread] = None
        self._open(instance, max_block_ms, key_serializer, value_serializer,
                   configs.get("partitioner"), self._start_thread)
        ref = weakref.ref(self)

        def cleanup() -> None:
            producer = ref()
            if producer is not None:
                producer.close()
        self._cleanup = cleanup
        atexit.register(cleanup)

    # send() is _chute.Producer.send, in C.

    def _start_thread(self) -> None:
        """Starts this process's callback thread (the C half asks)."""
        self._thread = threading.Thread(
            target=self._run, daemon=True,
            name="chute-callbacks-%s" % (self.config["instance"] or
                                         "default"))
        self._thread.start()

    def flush(self, timeout: Optional[float] = None) -> None:
        """Waits until every record sent before the call has its outcome
        and its callbacks ran.  Raises KafkaTimeoutError after timeout
        seconds (None: no limit)."""
        if timeout is not None and timeout < 0:
            raise ValueError("timeout must be None or >= 0 seconds")
        if not self._flush(timeout):
            raise KafkaTimeoutError(
                "Timeout after waiting for %s secs." % (timeout,))

    def close(self, timeout: Optional[float] = None) -> None:
        """Waits up to timeout seconds (None: no limit) for the outcome of
        every record sent, stops the callback thread and detaches from
        chute.  Futures still pending then fail with IllegalStateError (the
        records are chuted's and are still delivered).  Idempotent."""
        if self._closed:
            return
        atexit.unregister(self._cleanup)
        try:
            if timeout is None or timeout > 0:
                self._flush(timeout)
        finally:
            self._stop()
            thread = self._thread
            if (thread is not None and thread is not threading.current_thread()
                    and thread.is_alive()):
                thread.join(10)
            self._release()

    def partitions_for(self, topic: str) -> Set[int]:
        """The topic's partitions, as chuted knows them."""
        return set(range(self._partitions(topic)))

    def bootstrap_connected(self) -> bool:
        """True while the producer is attached to its chute instance."""
        return not self._closed

    def metrics(self, raw: bool = False) -> Dict[str, Dict[str, Any]]:
        """This process's counters of the producer: {"producer-metrics":
        {...}} with the Java client's names where one fits, and "chute":
        chute's own (sent, acked, failed, pending, send_errors,
        reports_unmatched, reports_lost).  The service's metrics are
        chuted's (chutectl status, metrics.listen)."""
        c = self._counters()
        return {
            "producer-metrics": {
                "record-send-total": c["sent"],
                "record-error-total": c["failed"] + c["send_errors"],
                "records-pending": c["pending"],
            },
            "chute": c,
        }

    def __enter__(self) -> "KafkaProducer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
