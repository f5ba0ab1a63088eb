#!/usr/bin/env python3
"""TLS of optgate-console on a LAN address (docs/console.md#tls), run by scripts/console-test.

Starts the real console on this machine's own non-loopback address (not 127.x: that is loopback), downloads the
device CA from /ca.crt, checks its fingerprint against the one the console printed, and then talks HTTPS with
Python's ssl verifying the server certificate against that CA (host name checked). Plain HTTP on the port is
refused, --no-tls on a LAN address is refused, keys are 0600 in a 0700 directory, and a restart keeps the CA.
"""
import hashlib
import http.client
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.parse

BIN = os.path.abspath(os.environ.get("OPTGATE_BIN_DIR", ".build/debug"))
PASSWORD = "correct horse battery 9"


def lan_address():
    """This machine's first non-loopback IPv4 address (from `ip`), or None."""
    output = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True).stdout
    for line in output.splitlines():
        parts = line.split()
        if "inet" in parts:
            address = parts[parts.index("inet") + 1].split("/")[0]
            if not address.startswith("127."):
                return address
    return None


def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Console:
    def __init__(self, state, host, port, *extra):
        self.process = subprocess.Popen([f"{BIN}/optgate-console", "--state-dir", state, "--host", host, "--port", str(port), *extra],
                                        stdout=subprocess.PIPE, stderr=open(f"{state}/console.log", "a"), text=True)
        self.lines = []
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))
            if "listening on" in line:
                break
        if self.process.poll() is not None:
            raise RuntimeError("optgate-console exited: " + "\n".join(self.lines) + open(f"{state}/console.log").read()[-2000:])
        deadline = time.time() + 15
        while True:
            try:
                socket.create_connection((host, port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.1)

    def line(self, prefix):
        return next((l for l in self.lines if prefix in l), None)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def main():
    host = lan_address()
    if host is None:
        print("SKIP console TLS: this machine has no non-loopback IPv4 address (ip -4 addr)")
        return
    state = tempfile.mkdtemp(prefix="optgate-console-tls-")
    passed, failed = 0, 0
    console = None

    def check(name, test):
        nonlocal passed, failed
        try:
            test()
            passed += 1
            print(f"PASS {name}", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {name}", flush=True)
            traceback.print_exc()

    try:
        port = free_port(host)
        base = f"https://{host}:{port}"

        def refuses_plain_http_on_a_lan_address():
            result = subprocess.run([f"{BIN}/optgate-console", "--state-dir", state, "--host", host, "--port", str(port), "--no-tls"],
                                    capture_output=True, text=True, timeout=60)
            assert result.returncode != 0 and "without TLS" in result.stderr, (result.returncode, result.stderr)
            assert not os.path.exists(f"{state}/console-tls"), "--no-tls refused but a CA was made"
        check("test_no_tls_on_a_lan_address_is_refused", refuses_plain_http_on_a_lan_address)

        console = Console(state, host, port)
        ca_path = f"{state}/downloaded-ca.crt"

        def serves_https_verified_by_the_downloaded_ca():
            assert console.line("listening on https://"), console.lines
            printed = console.line("SHA-256 fingerprint").rsplit(" ", 1)[1]
            # The manager's first fetch cannot verify yet; the fingerprint comparison is what makes the CA trusted.
            unverified = ssl._create_unverified_context()
            connection = http.client.HTTPSConnection(host, port, context=unverified, timeout=10)
            connection.request("GET", "/ca.crt")
            response = connection.getresponse()
            pem = response.read().decode()
            assert response.status == 200 and "BEGIN CERTIFICATE" in pem, (response.status, pem[:100])
            assert response.getheader("Content-Type") == "application/x-x509-ca-cert", response.getheaders()
            der = ssl.PEM_cert_to_DER_cert(pem)
            fingerprint = ":".join(f"{b:02X}" for b in hashlib.sha256(der).digest())
            assert fingerprint == printed, (fingerprint, printed)
            with open(ca_path, "w") as file:
                file.write(pem)
            # Verified against the downloaded CA, with the host name (an IP address SAN) checked.
            trusted = ssl.create_default_context(cafile=ca_path)
            assert trusted.check_hostname and trusted.verify_mode == ssl.CERT_REQUIRED
            connection = http.client.HTTPSConnection(host, port, context=trusted, timeout=10)
            connection.request("GET", "/login")
            response = connection.getresponse()
            response.read()
            assert response.status == 303 and response.getheader("Location") == "/setup", response.status
            assert "frame-ancestors 'none'" in response.getheader("Content-Security-Policy")
            # Without the device CA, the same request fails verification: the check above is real.
            try:
                plain = http.client.HTTPSConnection(host, port, context=ssl.create_default_context(), timeout=10)
                plain.request("GET", "/login")
                plain.getresponse()
                raise AssertionError("the server certificate verified without the device CA")
            except ssl.SSLCertVerificationError:
                pass
        check("test_https_verified_against_the_downloaded_ca", serves_https_verified_by_the_downloaded_ca)

        def plain_http_gets_no_answer():
            connection = http.client.HTTPConnection(host, port, timeout=10)
            try:
                connection.request("GET", "/login")
                response = connection.getresponse()
                status = response.status
            except (http.client.HTTPException, ConnectionError, OSError):
                status = None
            assert status is None, f"plain HTTP was answered with {status}"
        check("test_plain_http_is_refused", plain_http_gets_no_answer)

        def setup_and_session_over_tls():
            token = console.line("setup token: ").split(": ", 1)[1].strip()
            trusted = ssl.create_default_context(cafile=ca_path)
            body = urllib.parse.urlencode({"token": token, "name": "admin", "password": PASSWORD})
            connection = http.client.HTTPSConnection(host, port, context=trusted, timeout=120)
            headers = {"Origin": base, "Content-Type": "application/x-www-form-urlencoded"}
            connection.request("POST", "/setup", body=body, headers=dict(headers, Origin="http://" + base.split("//")[1]))
            response = connection.getresponse()
            response.read()
            assert response.status == 403, f"an http:// Origin on the https console: {response.status}"
            connection.request("POST", "/setup", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            cookie = response.getheader("Set-Cookie")
            assert response.status == 303 and "Secure" in cookie and "HttpOnly" in cookie, (response.status, cookie)
            connection.request("GET", "/", headers={"Cookie": cookie.split(";")[0]})
            response = connection.getresponse()
            page = response.read().decode()
            assert response.status == 200 and 'id="whoami">admin<' in page, response.status
        check("test_setup_and_a_secure_session_over_tls", setup_and_session_over_tls)

        def keys_are_private_and_the_ca_survives_a_restart():
            directory = f"{state}/console-tls"
            assert os.stat(directory).st_mode & 0o777 == 0o700, oct(os.stat(directory).st_mode)
            for name in ["ca.key", "server.key"]:
                mode = os.stat(f"{directory}/{name}").st_mode & 0o777
                assert mode == 0o600, (name, oct(mode))
                assert os.stat(f"{directory}/{name}").st_uid == os.getuid()
            first = console.line("SHA-256 fingerprint")
            console.stop()
            again = Console(state, host, port)
            try:
                assert again.line("SHA-256 fingerprint") == first, (again.line("SHA-256 fingerprint"), first)
                assert again.line("created the console's CA") is None, again.lines
                assert console.line("created the console's CA") is not None
                trusted = ssl.create_default_context(cafile=ca_path)
                connection = http.client.HTTPSConnection(host, port, context=trusted, timeout=10)
                connection.request("GET", "/ca.crt")
                assert connection.getresponse().status == 200
            finally:
                again.stop()
        check("test_keys_are_0600_and_the_ca_survives_a_restart", keys_are_private_and_the_ca_survives_a_restart)

        def loopback_stays_plain():
            loop_port = free_port("127.0.0.1")
            loop = Console(state, "127.0.0.1", loop_port)
            try:
                assert loop.line("listening on http://"), loop.lines
                connection = http.client.HTTPConnection("127.0.0.1", loop_port, timeout=10)
                connection.request("GET", "/ca.crt")
                assert connection.getresponse().status == 404  # no TLS, no CA to offer
            finally:
                loop.stop()
        check("test_loopback_stays_plain_http", loopback_stays_plain)
    finally:
        if console:
            console.stop()
        shutil.rmtree(state, ignore_errors=True)
    print(f"console TLS: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
