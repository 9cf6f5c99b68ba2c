"Refuse network connections in this process (loopback and unix sockets stay open); records every attempt."
import atexit, socket, sys

ATTEMPTS = []
LOCAL = {"127.0.0.1", "::1", "localhost", "0.0.0.0", ""}
_connect, _connect_ex, _getaddrinfo = socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo


def _remote(address):
    return isinstance(address, tuple) and str(address[0]) not in LOCAL


def _refuse(address):
    ATTEMPTS.append(address)
    raise OSError(f"network connection refused by the test suite's guard: {address}")


def _guarded_connect(self, address, *a):
    return _refuse(address) if _remote(address) else _connect(self, address, *a)


def _guarded_connect_ex(self, address, *a):
    return _refuse(address) if _remote(address) else _connect_ex(self, address, *a)


def _guarded_getaddrinfo(host, *a, **kw):
    return _refuse((host,)) if str(host) not in LOCAL else _getaddrinfo(host, *a, **kw)


def install(report_at_exit=False):
    "Block outside connections from now on; with `report_at_exit`, print the attempts to stderr when the process ends."
    socket.socket.connect, socket.socket.connect_ex, socket.getaddrinfo = _guarded_connect, _guarded_connect_ex, _guarded_getaddrinfo
    if report_at_exit: atexit.register(lambda: ATTEMPTS and print(f"NETWORK ATTEMPTS: {ATTEMPTS}", file=sys.stderr))


def cli_command(*args):
    "argv that runs `dpo-course ARGS` in a fresh Python with the guard installed."
    here = __file__.rsplit("/", 1)[0]
    code = (f"import sys; sys.path.insert(0, {here!r}); import netguard; netguard.install(report_at_exit=True); "
            "from dpo_course.cli import main; sys.exit(main(sys.argv[1:]))")
    return [sys.executable, "-c", code, *map(str, args)]
