"""Speed and memory figures; each module runs with `python -m benchmarks.<name>`."""
