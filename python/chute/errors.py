"""chute.errors: the exceptions chute's KafkaProducer raises.

They carry kafka-python's names and hierarchy (``KafkaError`` is a
``RuntimeError``; errors a broker reports are ``BrokerResponseError`` with an
``errno``), so code written for kafka-python catches them after changing
``kafka.errors`` to ``chute.errors``.  Each has ``retriable`` and
``invalid_metadata`` as in kafka-python; those raised for a libchute error
also have ``chute_code`` (the ``chute_err`` value, e.g. -4) and
``chute_name`` (e.g. ``"CHUTE_ERR_TOO_LARGE"``).
"""
from __future__ import annotations

from typing import Dict, Optional, Type


class KafkaError(RuntimeError):
    """Base of every error of the producer."""

    retriable = False
    invalid_metadata = False
    chute_code: Optional[int] = None
    chute_name: Optional[str] = None

    def __str__(self) -> str:
        if not self.args:
            return self.__class__.__name__
        return "{0}: {1}".format(self.__class__.__name__,
                                 super().__str__())


class IllegalStateError(KafkaError):
    """The producer is closed, or the service stopped taking records."""


class IllegalArgumentError(KafkaError):
    """An argument chute refuses (a partition out of range, ...)."""


class NoBrokersAvailable(KafkaError):
    """No chute service runs under the instance name (chuted is down)."""

    retriable = True
    invalid_metadata = True


class KafkaProtocolError(KafkaError):
    """chuted answered something libchute could not read."""

    retriable = True


class IncompatibleBrokerVersion(KafkaError):
    """The running chuted has a shared-memory layout of another version."""


class KafkaTimeoutError(KafkaError):
    """A wait ran out: a full ring for max_block_ms, flush, Future.get."""


class KafkaConfigurationError(KafkaError):
    """A setting the producer does not know, or a bad value."""


class ServiceCapacityError(KafkaError):
    """A fixed table of the chute instance is full: a user's 8
    delivery-report rings (one per producer and process), its client
    entries or its topics.  The message says which."""


class BrokerResponseError(KafkaError):
    """An error code a Kafka broker gave for the record (``errno``)."""

    errno: Optional[int] = None
    message: Optional[str] = None
    description: Optional[str] = None

    def __str__(self) -> str:
        return "[Error {0}] {1}".format(self.errno, super().__str__())


def _broker(name: str, errno: int, retriable: bool = False,
            invalid_metadata: bool = False) -> Type[BrokerResponseError]:
    cls = type(name, (BrokerResponseError,), {
        "errno": errno, "retriable": retriable,
        "invalid_metadata": invalid_metadata,
        "__doc__": "Kafka error code %d." % errno,
        "__module__": __name__})
    return cls


# The codes a Produce can come back with (chute's proto/kafka_err.c), under
# kafka-python 2.0.2's class names where it has one.
UnknownError = _broker("UnknownError", -1)
CorruptRecordException = _broker("CorruptRecordException", 2, True)
UnknownTopicOrPartitionError = _broker("UnknownTopicOrPartitionError", 3,
                                       True, True)
InvalidFetchRequestError = _broker("InvalidFetchRequestError", 4)
LeaderNotAvailableError = _broker("LeaderNotAvailableError", 5, True, True)
NotLeaderForPartitionError = _broker("NotLeaderForPartitionError", 6, True,
                                     True)
RequestTimedOutError = _broker("RequestTimedOutError", 7, True)
BrokerNotAvailableError = _broker("BrokerNotAvailableError", 8)
ReplicaNotAvailableError = _broker("ReplicaNotAvailableError", 9, True, True)
MessageSizeTooLargeError = _broker("MessageSizeTooLargeError", 10)
StaleLeaderEpochCodeError = _broker("StaleLeaderEpochCodeError", 13, True,
                                    True)
GroupLoadInProgressError = _broker("GroupLoadInProgressError", 14, True)
GroupCoordinatorNotAvailableError = _broker(
    "GroupCoordinatorNotAvailableError", 15, True)
NotCoordinatorForGroupError = _broker("NotCoordinatorForGroupError", 16,
                                      True)
InvalidTopicError = _broker("InvalidTopicError", 17)
RecordListTooLargeError = _broker("RecordListTooLargeError", 18)
NotEnoughReplicasError = _broker("NotEnoughReplicasError", 19, True)
NotEnoughReplicasAfterAppendError = _broker(
    "NotEnoughReplicasAfterAppendError", 20, True)
InvalidRequiredAcksError = _broker("InvalidRequiredAcksError", 21)
TopicAuthorizationFailedError = _broker("TopicAuthorizationFailedError", 29)
ClusterAuthorizationFailedError = _broker("ClusterAuthorizationFailedError",
                                          31)
InvalidTimestampError = _broker("InvalidTimestampError", 32)
UnsupportedVersionError = _broker("UnsupportedVersionError", 35)
InvalidRequestError = _broker("InvalidRequestError", 42)
UnsupportedForMessageFormatError = _broker(
    "UnsupportedForMessageFormatError", 43)
OutOfOrderSequenceNumberError = _broker("OutOfOrderSequenceNumberError", 45)
DuplicateSequenceNumberError = _broker("DuplicateSequenceNumberError", 46)
InvalidProducerEpochError = _broker("InvalidProducerEpochError", 47)
TransactionalIdAuthorizationFailedError = _broker(
    "TransactionalIdAuthorizationFailedError", 53)
KafkaStorageError = _broker("KafkaStorageError", 56, True, True)
UnknownProducerIdError = _broker("UnknownProducerIdError", 59)
ListenerNotFoundError = _broker("ListenerNotFoundError", 72, True, True)
FencedLeaderEpochError = _broker("FencedLeaderEpochError", 74, True, True)
UnsupportedCompressionTypeError = _broker("UnsupportedCompressionTypeError",
                                          76)
InvalidRecordError = _broker("InvalidRecordError", 87)
ProducerFencedError = _broker("ProducerFencedError", 90)
TransactionAbortableError = _broker("TransactionAbortableError", 120)

kafka_errors: Dict[int, Type[BrokerResponseError]] = {
    cls.errno: cls for cls in list(globals().values())
    if isinstance(cls, type) and issubclass(cls, BrokerResponseError)
    and cls is not BrokerResponseError}


def for_code(error_code: int) -> Type[BrokerResponseError]:
    """The class of a Kafka error code (UnknownError if chute has none)."""
    return kafka_errors.get(error_code, UnknownError)


def kafka_error(code: int, name: str) -> BrokerResponseError:
    """The exception of a delivery report that carries Kafka error code."""
    cls = for_code(code)
    exc = cls("the record was not delivered: %s (Kafka error %d)"
              % (name, code))
    if cls is UnknownError:
        exc.errno = code
    return exc


# chute_err codes (include/chute/chute.h) to classes.
_CHUTE: Dict[int, Type[Exception]] = {
    -1: IllegalArgumentError,           # CHUTE_ERR_INVALID
    -2: NoBrokersAvailable,             # CHUTE_ERR_NO_SERVICE
    -3: IncompatibleBrokerVersion,      # CHUTE_ERR_LAYOUT
    -4: MessageSizeTooLargeError,       # CHUTE_ERR_TOO_LARGE
    -5: KafkaTimeoutError,              # CHUTE_ERR_QUEUE_FULL
    -6: UnknownTopicOrPartitionError,   # CHUTE_ERR_UNKNOWN_TOPIC
    -7: IllegalArgumentError,           # CHUTE_ERR_PARTITION
    -8: KafkaTimeoutError,              # CHUTE_ERR_TIMED_OUT
    -9: KafkaError,                     # CHUTE_ERR_SYSTEM
    -10: IllegalStateError,             # CHUTE_ERR_CLOSED
    -11: KafkaProtocolError,            # CHUTE_ERR_PROTOCOL
    -12: ServiceCapacityError,          # CHUTE_ERR_TOO_MANY
    -13: KafkaError,                    # CHUTE_ERR_DENIED
}


def chute_error(code: int, message: str) -> Exception:
    """The exception for libchute's error `code` with its message."""
    from chute import _chute

    exc = _CHUTE.get(code, KafkaError)(message)
    exc.chute_code = code
    exc.chute_name = _chute.err_name(code)
    return exc
