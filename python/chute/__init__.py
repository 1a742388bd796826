"""chute: kafka-python's KafkaProducer on chute, the per-host Kafka
producer service.  ``from chute import KafkaProducer`` in place of
``from kafka import KafkaProducer``; see docs/python.md."""
from chute import _chute, errors
from chute.structs import RecordMetadata, TopicPartition

_chute._setup(errors.chute_error, errors.kafka_error, RecordMetadata,
              TopicPartition,
              lambda kind, exc: _producer._callback_failed(kind, exc),
              errors.BrokerResponseError)

from chute import producer as _producer  # noqa: E402
from chute.producer import ChuteConfigWarning, KafkaProducer  # noqa: E402

FutureRecordMetadata = _chute.FutureRecordMetadata

__all__ = ["KafkaProducer", "FutureRecordMetadata", "RecordMetadata",
           "TopicPartition", "ChuteConfigWarning", "errors"]
__version__ = "0.1.0"
