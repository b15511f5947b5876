"""The fuzz run's summary: what it sent and what came back."""


def pytest_terminal_summary(terminalreporter):
    from fuzz.test_openapi import tally, time_box

    terminalreporter.section("fuzz run")
    terminalreporter.write_line(f"time box: {time_box.share:.1f} s of requests per operation")
    for line in tally.lines():
        terminalreporter.write_line(line)
