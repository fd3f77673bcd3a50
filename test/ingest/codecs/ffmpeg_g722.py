"""Independent G.722 reference for the tests: FFmpeg's libavcodec g722 encoder/decoder through ctypes.

Usage: ffmpeg_g722.py probe | decode IN.g722 OUT.s16le | encode IN.s16le OUT.g722
Struct offsets are those of libavcodec 59 / libavutil 57 (FFmpeg 5.1); `probe` exits 3 on anything else so
the test skips instead of reading garbage.
"""
import ctypes
import sys

V = ctypes.c_void_p
try:
    av = ctypes.CDLL('libavcodec.so.59')
    au = ctypes.CDLL('libavutil.so.57')
except OSError:
    sys.exit(3)

SIGS = [
    (av.avcodec_version, ctypes.c_uint, []),
    (av.avcodec_find_decoder_by_name, V, [ctypes.c_char_p]),
    (av.avcodec_find_encoder_by_name, V, [ctypes.c_char_p]),
    (av.avcodec_alloc_context3, V, [V]),
    (av.avcodec_open2, ctypes.c_int, [V, V, V]),
    (av.av_packet_alloc, V, []),
    (av.av_packet_unref, None, [V]),
    (av.avcodec_send_packet, ctypes.c_int, [V, V]),
    (av.avcodec_receive_frame, ctypes.c_int, [V, V]),
    (av.avcodec_send_frame, ctypes.c_int, [V, V]),
    (av.avcodec_receive_packet, ctypes.c_int, [V, V]),
    (au.av_frame_alloc, V, []),
    (au.av_frame_make_writable, ctypes.c_int, [V]),
    (au.av_opt_set_int, ctypes.c_int, [V, ctypes.c_char_p, ctypes.c_int64, ctypes.c_int]),
    (au.av_opt_set, ctypes.c_int, [V, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_int]),
]
for fn, res, args in SIGS:
    fn.restype = res
    fn.argtypes = args

if av.avcodec_version() >> 16 != 59:
    sys.exit(3)

PKT_DATA, PKT_SIZE = 24, 32            # AVPacket.data, AVPacket.size
FRAME_NB_SAMPLES, FRAME_FORMAT, FRAME_PTS = 112, 116, 136
CTX_SAMPLE_FMT = 360                   # AVCodecContext.sample_fmt (after sample_rate 352, channels 356)
AV_SAMPLE_FMT_S16 = 1
FRAME = 320


def open_decoder():
    dec = av.avcodec_find_decoder_by_name(b'g722')
    ctx = av.avcodec_alloc_context3(dec)
    av.avcodec_open2(ctx, dec, None) == 0 or sys.exit('decoder open failed')
    return ctx


def decode(ctx, data, pkt, frame):
    buf = ctypes.create_string_buffer(data, len(data))
    ctypes.c_void_p.from_address(pkt + PKT_DATA).value = ctypes.addressof(buf)
    ctypes.c_int.from_address(pkt + PKT_SIZE).value = len(data)
    av.avcodec_send_packet(ctx, pkt) == 0 or sys.exit('send_packet failed')
    out = bytearray()
    while av.avcodec_receive_frame(ctx, frame) == 0:
        ctypes.c_int.from_address(frame + FRAME_FORMAT).value == AV_SAMPLE_FMT_S16 or sys.exit('not s16')
        n = ctypes.c_int.from_address(frame + FRAME_NB_SAMPLES).value
        out += ctypes.string_at(ctypes.c_void_p.from_address(frame).value, 2 * n)
    return bytes(out)


def main():
    mode = sys.argv[1]
    if mode == 'probe':
        open_decoder()
        return
    data = open(sys.argv[2], 'rb').read()
    pkt, frame = av.av_packet_alloc(), au.av_frame_alloc()
    if mode == 'decode':
        out = decode(open_decoder(), data, pkt, frame)
    else:
        # A frame the decoder made is a correctly laid out mono s16 frame of FRAME samples: reuse it as input.
        # (Received once only: a further receive_frame call would unref it.)
        silence = ctypes.create_string_buffer(FRAME // 2)
        ctypes.c_void_p.from_address(pkt + PKT_DATA).value = ctypes.addressof(silence)
        ctypes.c_int.from_address(pkt + PKT_SIZE).value = FRAME // 2
        dctx = open_decoder()
        av.avcodec_send_packet(dctx, pkt) == 0 or sys.exit('send_packet failed')
        av.avcodec_receive_frame(dctx, frame) == 0 or sys.exit('receive_frame failed')
        ctypes.c_int.from_address(frame + FRAME_NB_SAMPLES).value == FRAME or sys.exit('unexpected frame size')
        enc = av.avcodec_find_encoder_by_name(b'g722')
        ctx = av.avcodec_alloc_context3(enc)
        au.av_opt_set_int(ctx, b'ar', 16000, 0)
        au.av_opt_set(ctx, b'ch_layout', b'mono', 0)
        ctypes.c_int.from_address(ctx + CTX_SAMPLE_FMT).value = AV_SAMPLE_FMT_S16
        av.avcodec_open2(ctx, enc, None) == 0 or sys.exit('encoder open failed')
        out = bytearray()
        opkt = av.av_packet_alloc()
        for k in range(len(data) // (2 * FRAME)):
            au.av_frame_make_writable(frame) == 0 or sys.exit('make_writable failed')
            ctypes.memmove(ctypes.c_void_p.from_address(frame).value, data[k * 2 * FRAME:(k + 1) * 2 * FRAME], 2 * FRAME)
            ctypes.c_int64.from_address(frame + FRAME_PTS).value = k * FRAME
            av.avcodec_send_frame(ctx, frame) == 0 or sys.exit('send_frame failed')
            while av.avcodec_receive_packet(ctx, opkt) == 0:
                size = ctypes.c_int.from_address(opkt + PKT_SIZE).value
                out += ctypes.string_at(ctypes.c_void_p.from_address(opkt + PKT_DATA).value, size)
                av.av_packet_unref(opkt)
    open(sys.argv[3], 'wb').write(out)


main()
