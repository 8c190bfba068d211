"""Data: robust image reading, `prepare` (images -> shards + manifest) and tf.data pipelines."""
