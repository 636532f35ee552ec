#!/usr/bin/python3
"""An ESP peer that is not ours: scapy's SecurityAssociation (RFC 4303).

Run with Debian's /usr/bin/python3 (python3-scapy).

  esp_peer.py encrypt SPEC OUT.pcap   the SPEC's packets, encrypted by scapy
  esp_peer.py decrypt SPEC IN.pcap    every ESP packet in IN.pcap decrypted
                                      with the SPEC's SA of its SPI; one JSON
                                      line each: spi, seq, ok, inner or error

SPEC (JSON): {"sas": {"<spi>": SA}, "packets": [PACKET]}
  SA:     crypto, cryptoKey (hex), integrity, integrityKey (hex), mode
          (tunnel|transport), src, dst (outer, in the SA's direction),
          esnHigh (int or null: the high 32 bits of the sequence number),
          natT (bool: UDP 4500 encapsulation)
  PACKET: spi, seq (low 32 bits), ethSrc, ethDst, inner: {src, dst, proto
          (icmp|udp), id, size}, mutate (optional): flip-icv (last byte),
          truncate (ESP header and 4 bytes left), bad-padding (padding bytes
          not 1, 2, 3 ... but a valid ICV over them); plain: true for the
          inner packet in clear (spi and seq then only mark its payload)

ESN with CBC+HMAC: scapy leaves the high bits out of the ICV, so this peer
checks that ICV itself with Python's hmac (RFC 4303 2.2.1: the high bits
follow the packet in the ICV input) and decrypts with scapy unverified.
"""
import hashlib
import hmac
import json
import struct
import sys

from scapy.all import Ether, ICMP, IP, Raw, UDP, rdpcap, wrpcap, conf
from scapy.layers.ipsec import ESP, SecurityAssociation

conf.verb = 0

CRYPTO = {
    'aes-128-cbc': 'AES-CBC', 'aes-192-cbc': 'AES-CBC', 'aes-256-cbc': 'AES-CBC',
    'aes-128-gcm': 'AES-GCM', 'aes-256-gcm': 'AES-GCM',
}
INTEGRITY = {
    'none': None,
    'hmac-sha1-96': ('HMAC-SHA1-96', hashlib.sha1, 12),
    'hmac-sha-256-128': ('SHA2-256-128', hashlib.sha256, 16),
    'hmac-sha-384-192': ('SHA2-384-192', hashlib.sha384, 24),
    'hmac-sha-512-256': ('SHA2-512-256', hashlib.sha512, 32),
}


def security_association(spi, sa):
    integ = INTEGRITY[sa['integrity']]
    args = dict(spi=spi, crypt_algo=CRYPTO[sa['crypto']], crypt_key=bytes.fromhex(sa['cryptoKey']))
    if integ:
        args.update(auth_algo=integ[0], auth_key=bytes.fromhex(sa['integrityKey']))
    if sa['mode'] == 'tunnel':
        args['tunnel_header'] = IP(src=sa['src'], dst=sa['dst'])
    if sa.get('natT'):
        args['nat_t_header'] = UDP(sport=4500, dport=4500)
    if sa.get('esnHigh') is not None:
        args.update(esn_en=True, esn=sa['esnHigh'])
    return SecurityAssociation(ESP, **args)


def inner_packet(p, sa):
    i = p['inner']
    marker = ('vecgate %d %d ' % (p['spi'], p['seq'])).encode()
    body = (marker * (i['size'] // len(marker) + 1))[: i['size']]
    ip = IP(src=i['src'] if sa['mode'] == 'tunnel' else sa['src'], dst=i['dst'] if sa['mode'] == 'tunnel' else sa['dst'], ttl=64)
    if i['proto'] == 'icmp':
        return ip / ICMP(type=8, id=i['id'], seq=p['seq'] & 0xffff) / Raw(body)
    return ip / UDP(sport=i['id'], dport=7000) / Raw(body)


def esn_icv_ok(esp_bytes, sa):
    """The ICV over ESP header..trailer followed by the high 32 bits."""
    _, digest, size = INTEGRITY[sa['integrity']]
    data, icv = esp_bytes[:-size], esp_bytes[-size:]
    mac = hmac.new(bytes.fromhex(sa['integrityKey']), data + struct.pack('!I', sa['esnHigh']), digest).digest()
    return hmac.compare_digest(mac[:size], icv)


def sealed(assoc, pkt, seq, mutate):
    if mutate != 'bad-padding':
        return assoc.encrypt(pkt, seq_num=seq)
    algo = assoc.crypt_algo  # shared by every SA of this algorithm: put it back
    good_pad = algo.pad

    def bad_pad(esp):
        esp = good_pad(esp)
        if esp.padlen == 0:
            esp.padlen = max(algo.block_size, 4)
        esp.padding = b'\xaa' * esp.padlen
        return esp

    algo.pad = bad_pad
    try:
        return assoc.encrypt(pkt, seq_num=seq)
    finally:
        algo.pad = good_pad


def mutated(enc, mutate):
    raw = bytes(enc)
    if mutate == 'flip-icv':
        return IP(raw[:-1] + bytes([raw[-1] ^ 1]))
    if mutate == 'truncate':
        ip = IP(raw)
        esp = bytes(ip[ESP])[:12]
        head = ip.copy()
        head[ESP].underlayer.remove_payload()
        del head.len
        del head.chksum
        if UDP in head:
            del head[UDP].len
        return IP(bytes(head / Raw(esp)))
    return enc


def encrypt(spec, out):
    frames = []
    for p in spec['packets']:
        if p.get('plain'):
            frames.append(Ether(src=p['ethSrc'], dst=p['ethDst']) / inner_packet(p, {'mode': 'tunnel'}))
            continue
        sa = spec['sas'][str(p['spi'])]
        assoc = security_association(p['spi'], sa)
        mutate = p.get('mutate')
        enc = sealed(assoc, inner_packet(p, sa), p['seq'], mutate)
        if UDP in enc and sa.get('natT'):
            del enc[UDP].len  # scapy 2.5 leaves it at 8
            del enc[IP].len
            del enc[IP].chksum
            enc = IP(bytes(enc))
        if sa.get('esnHigh') is not None and not sa['crypto'].endswith('gcm'):
            # scapy's HMAC leaves the ESN out: sign it here (RFC 4303 2.2.1)
            full, raw_esp = bytes(enc), bytes(enc[ESP])
            _, digest, size = INTEGRITY[sa['integrity']]
            data = raw_esp[:-size]
            mac = hmac.new(bytes.fromhex(sa['integrityKey']), data + struct.pack('!I', sa['esnHigh']), digest).digest()
            enc = IP(full[: len(full) - len(raw_esp)] + data + mac[:size])
        frames.append(Ether(src=p['ethSrc'], dst=p['ethDst']) / mutated(IP(bytes(enc)), mutate))
    wrpcap(out, frames)


def decrypt(spec, path):
    for n, frame in enumerate(rdpcap(path)):
        if IP not in frame:
            continue
        ip = frame[IP]
        if ESP not in ip:
            print(json.dumps({'frame': n + 1, 'esp': False, 'proto': ip.proto}))
            continue
        esp = ip[ESP]
        sa = spec['sas'].get(str(esp.spi))
        row = {'frame': n + 1, 'esp': True, 'spi': esp.spi, 'seq': esp.seq, 'outer': [ip.src, ip.dst, ip.ttl],
               'udp': [ip[UDP].sport, ip[UDP].dport] if UDP in ip else None}
        if sa is None:
            row.update(ok=False, error='no SA for this SPI')
            print(json.dumps(row))
            continue
        try:
            assoc = security_association(esp.spi, sa)
            verify = True
            if sa.get('esnHigh') is not None and not sa['crypto'].endswith('gcm'):
                if not esn_icv_ok(bytes(esp), sa):
                    raise ValueError('ESN ICV mismatch')
                verify = False
            plain = assoc.decrypt(IP(bytes(ip)), verify=verify)
            inner = plain if IP in plain else IP(bytes(plain))
            payload = bytes(inner[Raw].load) if Raw in inner else b''
            row.update(ok=True, inner={'src': inner.src, 'dst': inner.dst, 'proto': inner.proto, 'ttl': inner.ttl,
                                       'len': inner.len, 'icmpType': inner[ICMP].type if ICMP in inner else None,
                                       'payload': payload[:32].decode('latin-1')})
        except Exception as e:  # a bad ICV, a wrong key: say which packet and why
            row.update(ok=False, error='%s: %s' % (type(e).__name__, e))
        print(json.dumps(row))


def main():
    cmd, spec_path, pcap = sys.argv[1:4]
    with open(spec_path) as f:
        spec = json.load(f)
    {'encrypt': encrypt, 'decrypt': decrypt}[cmd](spec, pcap)


if __name__ == '__main__':
    main()
