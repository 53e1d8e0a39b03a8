"""The checks the Python client suites share: a decorator that runs one named check and
records how it went, and the closing summary."""
import sys

results = []


def check(name):
    """Runs the decorated function at once as the check `name`, printing ok or FAIL."""
    def wrap(fn):
        try:
            fn()
            results.append((name, None))
            print(f"ok   {name}")
        except Exception as e:  # noqa: BLE001 - every failure is reported, not raised
            results.append((name, e))
            print(f"FAIL {name}: {e!r}")
        return fn
    return wrap


def finish():
    """Prints 'N passed, N failed' and exits non-zero if any check failed."""
    failed = sum(1 for _, e in results if e is not None)
    print(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
