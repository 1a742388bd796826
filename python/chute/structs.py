"""chute.structs: the tuples a send's future resolves to, with
kafka-python's fields."""
from __future__ import annotations

from typing import NamedTuple, Optional


class TopicPartition(NamedTuple):
    """A topic and one of its partitions."""

    topic: str
    partition: int


class RecordMetadata(NamedTuple):
    """Where a record went, as kafka-python's RecordMetadata.

    topic, partition, topic_partition and offset come from chute's delivery
    report; timestamp is the record's own (the one given to send(), else
    the time send() was called), which is what Kafka stores for a topic with
    CreateTime timestamps; log_start_offset is -1 and checksum None (a
    report carries neither; kafka-python gives None for v2 batches too);
    the sizes are those of the key, the value and the headers (keys as
    UTF-8), -1 when there is no key, value or header.
    """

    topic: str
    partition: int
    topic_partition: TopicPartition
    offset: int
    timestamp: int
    log_start_offset: int
    checksum: Optional[int]
    serialized_key_size: int
    serialized_value_size: int
    serialized_header_size: int
