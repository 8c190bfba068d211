"""Photo input and output: decode.py (read any photo), encode.py (PNG/JPEG out), files.py (atomic writes, discovery)."""
