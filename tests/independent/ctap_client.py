#!/usr/bin/python3
"""An independent CTAP 2.1 client for the breakglass software token.

Drives "tokenctl soft serve" over its UNIX SOCK_SEQPACKET socket (one raw
64-byte CTAPHID report per packet, no report-id byte) with Yubico's
python-fido2 (Debian's python3-fido2, 0.9.1): its CTAPHID framing
(fido2.hid.CtapHidDevice), its CTAP2 commands (fido2.ctap2.Ctap2, which
also insists on canonical CBOR), its PIN/UV auth protocols 1 and 2
(fido2.ctap2.pin), its hmac-secret extension, its packed attestation
verifier and its COSE signature checks.  Nothing here is breakglass code;
only the socket transport below is written here, because python-fido2
knows HID devices only.

    ctap_client.py SOCKET_PATH [--no-cred-protect]

The token must be fresh (no PIN, no credentials).  With --no-cred-protect
it checks a token served with "tokenctl soft serve --no-cred-protect"
instead.  Prints one "PASS: ..."
line per check and exits 0; on the first failure prints "FAIL: ..." and
exits 1.
"""

import hashlib
import os
import socket
import sys
import traceback
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives import hashes

from fido2.attestation import PackedAttestation
from fido2.attestation.base import AttestationType
from fido2.attestation.base import InvalidSignature as AttestationInvalidSignature
from fido2.cose import CoseKey, ES256, EdDSA
from fido2.ctap import CtapError
from fido2.ctap2 import Ctap2
from fido2.ctap2.extensions import CredProtectExtension, HmacSecretExtension
from fido2.ctap2.pin import ClientPin, PinProtocolV1, PinProtocolV2
from fido2.hid import CtapHidDevice
from fido2.hid.base import CtapHidConnection, HidDescriptor

REPORT_LEN = 64
SOFT_AAGUID = uuid.UUID("7c3e6a1f-52b4-4d9e-a8f0-3b91d5c2e64a").bytes
RP = {"id": "independent.example", "name": "independent client"}
PIN = "independent-1234"
WRONG_PIN = "not-the-pin"
READ_TIMEOUT_S = 10


class SeqpacketConnection(CtapHidConnection):
    """A CtapHidConnection over a SOCK_SEQPACKET socket: every packet is
    exactly one 64-byte report."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.sock.settimeout(READ_TIMEOUT_S)
        self.sock.connect(path)

    def write_packet(self, data):
        if len(data) != REPORT_LEN:
            raise OSError("report of %d bytes" % len(data))
        if self.sock.send(data) != REPORT_LEN:
            raise OSError("short send")

    def read_packet(self):
        # one more byte than a report, to see a packet that is too long
        data = self.sock.recv(REPORT_LEN + 1)
        if len(data) != REPORT_LEN:
            raise OSError("packet of %d bytes, not %d" % (len(data), REPORT_LEN))
        return data

    def close(self):
        self.sock.close()


def open_device(path):
    desc = HidDescriptor(path, 0, 0, REPORT_LEN, REPORT_LEN)
    return CtapHidDevice(desc, SeqpacketConnection(path))


class Failed(Exception):
    pass


def check(cond, what, detail=""):
    if not cond:
        raise Failed(what + (": " + detail if detail else ""))
    print("PASS: " + what, flush=True)


def expect_ctap_error(code, fn, what):
    try:
        fn()
    except CtapError as e:
        check(e.code == code, what, "got %s" % e.code)
        return
    raise Failed(what + ": no error")


def pin_token(ctap, protocol, permissions):
    cp = ClientPin(ctap, protocol)
    return cp.get_pin_token(PIN, permissions, RP["id"])


def make_credential(ctap, alg, cred_protect=None):
    """makeCredential with hmac-secret (and credProtect if asked) under PIN
    protocol 2; returns (attestation object, client data hash)."""
    proto = PinProtocolV2()
    tok = pin_token(ctap, proto, ClientPin.PERMISSION.MAKE_CREDENTIAL)
    cdh = os.urandom(32)
    ext = {"hmac-secret": True}
    if cred_protect is not None:
        ext["credProtect"] = cred_protect
    att = ctap.make_credential(
        cdh,
        RP,
        {"id": os.urandom(16), "name": "alice", "displayName": "Alice"},
        [{"type": "public-key", "alg": alg}],
        extensions=ext,
        pin_uv_param=proto.authenticate(tok, cdh),
        pin_uv_protocol=proto.VERSION,
    )
    return att, cdh


def assertion(ctap, cred_id, protocol, salts):
    """getAssertion with hmac-secret, PIN/UV auth and the hmac-secret
    exchange both under protocol; returns (response, cdh, outputs)."""
    tok = pin_token(ctap, protocol, ClientPin.PERMISSION.GET_ASSERTION)
    hs = HmacSecretExtension(ctap, protocol)
    inp = {"salt1": salts[0]}
    if len(salts) > 1:
        inp["salt2"] = salts[1]
    ext_in = hs.process_get_input({"hmacGetSecret": inp})
    cdh = os.urandom(32)
    resp = ctap.get_assertion(
        RP["id"],
        cdh,
        [{"type": "public-key", "id": cred_id}],
        extensions={"hmac-secret": ext_in},
        pin_uv_param=protocol.authenticate(tok, cdh),
        pin_uv_protocol=protocol.VERSION,
    )
    out = hs.process_get_output(resp.auth_data)["hmacGetSecret"]
    outs = [out["output1"]] + ([out["output2"]] if "output2" in out else [])
    return resp, cdh, outs


def verify_directly(pub, message, sig):
    """The same signature check with cryptography alone (no python-fido2
    COSE code): ES256 over SHA-256, or Ed25519."""
    if pub[3] == ES256.ALGORITHM:
        nums = ec.EllipticCurvePublicNumbers(
            int.from_bytes(pub[-2], "big"),
            int.from_bytes(pub[-3], "big"),
            ec.SECP256R1(),
        )
        nums.public_key().verify(sig, message, ec.ECDSA(hashes.SHA256()))
    else:
        ed25519.Ed25519PublicKey.from_public_bytes(pub[-2]).verify(sig, message)


def run(path):
    dev = open_device(path)
    check(dev.capabilities & 0x04 != 0, "CTAPHID INIT: CBOR capability")
    check(dev.ping(b"independent") == b"independent", "CTAPHID PING echoes")
    ctap = Ctap2(dev)  # strict_cbor: every response must be canonical

    # --- getInfo -------------------------------------------------------
    info = ctap.info
    check(
        "FIDO_2_0" in info.versions and "FIDO_2_1" in info.versions,
        "getInfo versions FIDO_2_0 and FIDO_2_1",
        repr(info.versions),
    )
    check(
        "hmac-secret" in info.extensions and "credProtect" in info.extensions,
        "getInfo extensions hmac-secret and credProtect",
        repr(info.extensions),
    )
    check(info.aaguid == SOFT_AAGUID, "getInfo AAGUID is the soft token's")
    opts = info.options
    check(
        opts.get("rk") is False
        and opts.get("up") is True
        and opts.get("clientPin") is False
        and opts.get("pinUvAuthToken") is True,
        "getInfo options rk=false up=true clientPin=false pinUvAuthToken=true",
        repr(opts),
    )
    check(
        list(info.pin_uv_protocols) == [2, 1],
        "getInfo pinUvAuthProtocols [2, 1]",
        repr(info.pin_uv_protocols),
    )
    algs = [a.get("alg") for a in (info.algorithms or [])]
    check(
        ES256.ALGORITHM in algs and EdDSA.ALGORITHM in algs,
        "getInfo algorithms include ES256 and EdDSA",
        repr(info.algorithms),
    )

    # --- setPIN ----------------------------------------------------------
    cp = ClientPin(ctap)
    check(isinstance(cp.protocol, PinProtocolV2), "ClientPin picks protocol 2")
    cp.set_pin(PIN)
    check(ctap.get_info().options.get("clientPin") is True,
          "setPIN: getInfo now reports clientPin=true")
    check(cp.get_pin_retries()[0] == 8, "PIN retries 8 after setPIN")

    # --- makeCredential, attestation -------------------------------------
    creds = {}
    cpx = CredProtectExtension(ctap)
    check(cpx.is_supported(), "python-fido2 sees credProtect supported")
    for name, alg, prot in (
            ("ES256", ES256.ALGORITHM, CredProtectExtension.POLICY.REQUIRED),
            ("EdDSA", EdDSA.ALGORITHM, None)):
        level = None
        if prot is not None:
            level = cpx.process_create_input(
                {"credentialProtectionPolicy": prot,
                 "enforceCredentialProtectionPolicy": True})
        att, cdh = make_credential(ctap, alg, level)
        ad = att.auth_data
        cd = ad.credential_data
        pub = CoseKey.parse(cd.public_key)
        check(att.fmt == "packed", name + " makeCredential: packed attestation")
        check(ad.rp_id_hash == hashlib.sha256(RP["id"].encode()).digest(),
              name + " makeCredential: rpIdHash")
        check(ad.is_user_present() and ad.is_user_verified() and
              ad.is_attested(),
              name + " makeCredential: flags UP, UV and AT")
        check(cd.aaguid == SOFT_AAGUID, name + " makeCredential: AAGUID")
        check(pub.ALGORITHM == alg, name + " credential key is COSE alg %d" % alg)
        check(ad.extensions.get("hmac-secret") is True,
              name + " makeCredential: hmac-secret granted")
        if level is not None:
            check(ad.extensions.get("credProtect") == level,
                  name + " makeCredential: credProtect level %d granted" % level)
        res = PackedAttestation().verify(att.att_statement, ad, cdh)
        check(res.attestation_type in (AttestationType.SELF,
                                       AttestationType.BASIC),
              name + " packed attestation verifies (%s)" %
              res.attestation_type.name)
        bad = bytearray(cdh)
        bad[0] ^= 1
        try:
            PackedAttestation().verify(att.att_statement, ad, bytes(bad))
            raise Failed(name + " attestation verified over a wrong cdh")
        except AttestationInvalidSignature:
            check(True, name + " attestation fails over a changed cdh")
        creds[name] = (cd.credential_id, pub)

    # --- getAssertion + hmac-secret under protocols 1 and 2 --------------
    salt_a, salt_b = os.urandom(32), os.urandom(32)
    for name, (cid, pub) in creds.items():
        outputs = {}
        last_counter = -1
        for proto in (PinProtocolV1(), PinProtocolV2()):
            tag = "%s protocol %d" % (name, proto.VERSION)
            resp, cdh, outs = assertion(ctap, cid, proto, [salt_a, salt_b])
            ad = resp.auth_data
            check(len(outs) == 2 and all(len(o) == 32 for o in outs),
                  tag + " getAssertion: two 32-byte hmac-secret outputs")
            check(outs[0] != outs[1], tag + " two salts give two outputs")
            check(ad.is_user_present() and ad.is_user_verified(),
                  tag + " getAssertion: flags UP and UV")
            check(ad.counter > last_counter, tag + " signature counter grows")
            last_counter = ad.counter
            resp.verify(cdh, pub)
            check(True, tag + " signature verifies (python-fido2 COSE)")
            verify_directly(pub, ad + cdh, resp.signature)
            check(True, tag + " signature verifies (cryptography alone)")
            try:
                resp.verify(bytes(32), pub)
                raise Failed(tag + " signature verified over a wrong cdh")
            except InvalidSignature:
                check(True, tag + " signature fails over a changed cdh")
            # the same salt again, salt1 only
            _, _, again = assertion(ctap, cid, proto, [salt_a])
            check(len(again) == 1 and again[0] == outs[0],
                  tag + " same salt, same output")
            outputs[proto.VERSION] = outs
        check(outputs[1] == outputs[2],
              name + " hmac-secret outputs agree across protocols 1 and 2")
    # two credentials, one salt: different secrets
    _, _, o_es = assertion(ctap, creds["ES256"][0], PinProtocolV2(), [salt_a])
    _, _, o_ed = assertion(ctap, creds["EdDSA"][0], PinProtocolV2(), [salt_a])
    check(o_es[0] != o_ed[0], "two credentials, same salt: different outputs")

    # --- credProtect 3 without UV: the credential is invisible -----------
    cdh = os.urandom(32)
    expect_ctap_error(
        CtapError.ERR.NO_CREDENTIALS,
        lambda: ctap.get_assertion(
            RP["id"], cdh,
            [{"type": "public-key", "id": creds["ES256"][0]}],
            options={"up": False}),
        "credProtect 3 credential not found without UV")

    # --- PIN retries -----------------------------------------------------
    for proto in (PinProtocolV2(), PinProtocolV1()):
        cp = ClientPin(ctap, proto)
        check(cp.get_pin_retries()[0] == 8,
              "protocol %d: PIN retries 8" % proto.VERSION)
        for left in (7, 6):
            expect_ctap_error(
                CtapError.ERR.PIN_INVALID,
                lambda: cp.get_pin_token(
                    WRONG_PIN, ClientPin.PERMISSION.GET_ASSERTION, RP["id"]),
                "protocol %d: wrong PIN refused" % proto.VERSION)
            check(cp.get_pin_retries()[0] == left,
                  "protocol %d: PIN retries %d" % (proto.VERSION, left))
        tok = cp.get_pin_token(PIN, ClientPin.PERMISSION.GET_ASSERTION,
                               RP["id"])
        check(len(tok) == 32, "protocol %d: right PIN gives a token"
              % proto.VERSION)
        check(cp.get_pin_retries()[0] == 8,
              "protocol %d: PIN retries back to 8" % proto.VERSION)
    dev.close()


def run_no_cred_protect(path):
    """A token served with --no-cred-protect: no credProtect in getInfo, a
    request for it is ignored, and the credential works without UV."""
    dev = open_device(path)
    ctap = Ctap2(dev)
    check(list(ctap.info.extensions) == ["hmac-secret"],
          "no-cred-protect: getInfo extensions are hmac-secret only",
          repr(ctap.info.extensions))
    cpx = CredProtectExtension(ctap)
    check(not cpx.is_supported(),
          "no-cred-protect: python-fido2 sees no credProtect")
    try:
        cpx.process_create_input(
            {"credentialProtectionPolicy": CredProtectExtension.POLICY.REQUIRED,
             "enforceCredentialProtectionPolicy": True})
        raise Failed("no-cred-protect: python-fido2 would enforce credProtect")
    except CtapError as e:
        check(e.code == CtapError.ERR.UNSUPPORTED_EXTENSION,
              "no-cred-protect: enforcing credProtect is refused client-side")
    ClientPin(ctap).set_pin(PIN)
    att, _ = make_credential(ctap, ES256.ALGORITHM, 3)  # asked anyway
    ad = att.auth_data
    check(ad.extensions.get("hmac-secret") is True and
          "credProtect" not in ad.extensions,
          "no-cred-protect: credProtect request ignored, hmac-secret granted",
          repr(ad.extensions))
    cid = ad.credential_data.credential_id
    pub = CoseKey.parse(ad.credential_data.public_key)
    cdh = os.urandom(32)
    resp = ctap.get_assertion(RP["id"], cdh,
                              [{"type": "public-key", "id": cid}],
                              options={"up": False})
    resp.verify(cdh, pub)
    check(not resp.auth_data.is_user_verified(),
          "no-cred-protect: credential usable without UV (level 1)")
    resp, _, outs = assertion(ctap, cid, PinProtocolV1(), [os.urandom(32)])
    check(len(outs) == 1 and len(outs[0]) == 32,
          "no-cred-protect: hmac-secret under protocol 1")
    dev.close()


def main():
    args = sys.argv[1:]
    if len(args) == 2 and args[1] == "--no-cred-protect":
        fn = run_no_cred_protect
    elif len(args) == 1:
        fn = run
    else:
        sys.stderr.write("usage: ctap_client.py SOCKET_PATH "
                         "[--no-cred-protect]\n")
        return 2
    try:
        fn(args[0])
    except Failed as e:
        print("FAIL: %s" % e, flush=True)
        return 1
    except Exception as e:  # a CTAP error, a bad frame, a timeout
        traceback.print_exc()
        print("FAIL: %s: %s" % (type(e).__name__, e), flush=True)
        return 1
    print("ALL PASS", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
