# A notify socket as PID 1 has one, for the tests of the runtime's sd_notify outside a machine: prints each
# datagram systemd-notify sends as one JSON line, and closes the barrier fds it passes (PID 1 does so once
# it has processed every earlier message; systemd-notify waits for that).
import array, json, os, socket, sys

sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sys.argv[1])
sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
print(json.dumps({"listening": sys.argv[1]}), flush=True)
while True:
    data, ancdata, _, _ = sock.recvmsg(65536, socket.CMSG_SPACE(16 * 4) + socket.CMSG_SPACE(12))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
            for fd in fds:
                os.close(fd)
    print(json.dumps({"message": data.decode()}), flush=True)
