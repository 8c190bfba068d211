"""Data: robust image reading, `prepare` (images -> shards + manifest), tf.data pipelines, and a NumPy PyDataset for the other Keras backends."""
