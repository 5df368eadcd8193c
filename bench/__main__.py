"""``make bench``: run every benchmark and print its figures."""

from bench import reminder_latency

if __name__ == "__main__":
    reminder_latency.main([])
