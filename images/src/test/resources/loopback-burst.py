# Run inside a workspace's network namespace (nsenter -t PID -n python3 loopback-burst.py N PORTS):
# two servers on 127.0.0.1 and N short loopback connections to them, as fast as they go.
import socket
import sys
import threading
import time

n = int(sys.argv[1])
ports = [int(p) for p in sys.argv[2].split(',')]
servers = []
for p in ports:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('127.0.0.1', p))
    s.listen(4096)
    servers.append(s)


def serve(s):
    while True:
        try:
            c, _ = s.accept()
            c.close()
        except OSError:
            return


for s in servers:
    threading.Thread(target=serve, args=(s,), daemon=True).start()
t0 = time.time()
fails = 0
for i in range(n):
    c = socket.socket()
    try:
        c.connect(('127.0.0.1', ports[i % len(ports)]))
    except OSError:
        fails += 1
    c.close()
print("connections %d in %.1fs, %d failed" % (n, time.time() - t0, fails), flush=True)
