"""``make bench``: run every benchmark and print its figures."""

from bench import broadcast_rate, reminder_latency

if __name__ == "__main__":
    reminder_latency.main([])
    broadcast_rate.main([])
