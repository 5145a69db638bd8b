"""`python -m bench`: throughput, latency, CPU and memory of this server against Prism's mock of
the same contract and a bare Starlette app (the ceiling), under wrk on 127.0.0.1.

Not part of the wheel and not a test: it measures, it asserts nothing.
"""
