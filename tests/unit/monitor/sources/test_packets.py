"""PacketReader and NAL parsing on real clips: sizes agree with ffprobe, filler and SPS are found."""

from __future__ import annotations

import csv
import io
import itertools
import subprocess
from pathlib import Path

import av.logging
import pytest

from safecity.errors import SourceError
from safecity.monitor.sources.packets import (
    FILLER_NAL,
    SPS_NAL,
    Packet,
    PacketReader,
    StreamStart,
    hrd_constant_bitrate,
    nal_unit_types,
    parameter_sets,
)

REPO = Path(__file__).resolve().parents[4]
ROOM = REPO / "data" / "video" / "intel-sample-videos" / "one-by-one-person-detection.mp4"


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=120)


def _ffprobe_packets(path: Path) -> list[tuple[float, int, bool]]:
    """(pts seconds, size, keyframe) per packet, in decode order, as ffprobe reports them."""
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=pts_time,size,flags",
         "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    return [(float(r[0]), int(r[1]), "K" in r[2]) for r in csv.reader(io.StringIO(out)) if r]


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("packets")
    enc = ["-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-g", "10", "-pix_fmt", "yuv420p", "-an"]
    out = {
        "vbr": d / "vbr.mp4",
        "cbr": d / "cbr.mp4",
        "ts_small": d / "small.ts",
        "ts_big": d / "big.ts",
    }
    _ffmpeg("-ss", "4", "-t", "4", "-i", str(ROOM), "-vf", "scale=320:180", *enc, str(out["vbr"]))
    _ffmpeg(
        "-ss", "4", "-t", "4", "-i", str(ROOM), "-vf", "scale=320:180", *enc[:-3], "-b:v", "300k",
        "-maxrate", "300k", "-minrate", "300k", "-bufsize", "150k", "-x264-params", "nal-hrd=cbr",
        "-pix_fmt", "yuv420p", "-an", str(out["cbr"]),
    )  # fmt: skip
    _ffmpeg(
        "-ss",
        "4",
        "-t",
        "2",
        "-i",
        str(ROOM),
        "-vf",
        "scale=320:180",
        *enc,
        "-f",
        "mpegts",
        str(out["ts_small"]),
    )
    _ffmpeg(
        "-ss",
        "4",
        "-t",
        "2",
        "-i",
        str(ROOM),
        "-vf",
        "scale=480:270",
        *enc,
        "-f",
        "mpegts",
        str(out["ts_big"]),
    )
    return out


def _read(path: Path, **kw: object) -> tuple[list[StreamStart], list[Packet]]:
    starts: list[StreamStart] = []
    packets: list[Packet] = []
    for item in PacketReader(path, camera="cam", **kw):  # type: ignore[arg-type]
        if isinstance(item, StreamStart):
            starts.append(item)
        elif isinstance(item, Packet):
            packets.append(item)
    return starts, packets


def test_bundled_clip_packets_match_ffprobe() -> None:
    starts, packets = _read(ROOM)
    assert len(starts) == 1
    p = starts[0].params
    assert (p.codec, p.width, p.height, p.fps, p.has_b_frames) == ("h264", 768, 432, 10.0, True)
    assert p.nal_length_size == 4  # MP4: length-prefixed NAL units
    probe = _ffprobe_packets(ROOM)
    assert [(pk.size, pk.keyframe) for pk in packets] == [(s, k) for _, s, k in probe]
    # times: seconds from the start of the file, the same as ffprobe's pts times (first pts is 0)
    assert max(abs(pk.t_s - t) for pk, (t, _, _) in zip(packets, probe, strict=True)) < 1e-6
    assert [pk.index for pk in packets] == list(range(1, len(packets) + 1))
    assert not any(pk.corrupt for pk in packets)


def test_bundled_clip_p_frame_bytes_say_when_someone_enters() -> None:
    """The figures of the issue: 0-1 KB/s of non-key bytes while empty, >= 15 KB/s on the first entry."""
    _, packets = _read(ROOM)
    per_s: dict[int, int] = {}
    for pk in packets:
        if not pk.keyframe:
            per_s[int(pk.t_s)] = per_s.get(int(pk.t_s), 0) + pk.size
    assert all(per_s[s] < 1_500 for s in range(3))  # room empty (first person at 6.8 s, labels)
    assert per_s[6] > 15_000  # she walks in


def test_loop_keeps_time_increasing(clips: dict[str, Path]) -> None:
    reader = PacketReader(clips["vbr"], camera="cam", loop=True)
    items = list(itertools.islice(iter(reader), 0, 205))
    reader.close()
    starts = [i for i in items if isinstance(i, StreamStart)]
    packets = [i for i in items if isinstance(i, Packet)]
    assert len(starts) >= 2 and [s.session for s in starts] == list(range(1, len(starts) + 1))
    dts_order = [p.t_s for p in packets]  # no B-frames: decode order == presentation order
    assert all(b > a for a, b in itertools.pairwise(dts_order))
    assert dts_order[-1] > 4.0  # the second round goes on after the 4 s of the first


def test_missing_or_bad_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        PacketReader(tmp_path / "nope.mp4", camera="cam")
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all" * 100)
    with pytest.raises(SourceError, match="cannot read"):
        PacketReader(bad, camera="cam")


def test_filler_nal_units_mark_constant_bitrate(clips: dict[str, Path]) -> None:
    """x264 nal-hrd=cbr pads frames with filler data (NAL 12); the VBR encode of the same frames has none."""
    (start,), cbr = _read(clips["cbr"])
    _, vbr = _read(clips["vbr"])
    ls = start.params.nal_length_size

    def types(p: Packet) -> list[int]:
        return nal_unit_types(bytes(p.av_packet), "h264", ls)

    assert sum(FILLER_NAL["h264"] in types(p) for p in cbr) >= 5
    assert not any(FILLER_NAL["h264"] in types(p) for p in vbr)
    assert all(5 in types(p) for p in vbr if p.keyframe)  # IDR slices in keyframes
    assert all(1 in types(p) for p in vbr if not p.keyframe)  # non-IDR slices otherwise


def test_annex_b_keyframes_carry_the_sps_and_it_changes_with_the_size(clips: dict[str, Path]) -> None:
    (s_small,), small = _read(clips["ts_small"])
    _, big = _read(clips["ts_big"])
    assert s_small.params.nal_length_size == 0  # MPEG-TS: start codes
    sps_small = {parameter_sets(bytes(p.av_packet), "h264", 0) for p in small if p.keyframe}
    sps_big = {parameter_sets(bytes(p.av_packet), "h264", 0) for p in big if p.keyframe}
    assert len(sps_small) == 1 and len(sps_big) == 1 and b"" not in sps_small
    assert sps_small != sps_big
    assert SPS_NAL["h264"] in nal_unit_types(bytes(small[0].av_packet), "h264", 0)
    assert parameter_sets(bytes(small[1].av_packet), "h264", 0) == b""  # P-frames carry none


def test_nal_parsing_of_truncated_or_foreign_data() -> None:
    assert nal_unit_types(b"", "h264", 4) == []
    assert nal_unit_types(b"\x00\x00\x00\x09\x65", "h264", 4) == []  # length past the end
    assert nal_unit_types(b"\x00\x00\x01\x40\x01", "hevc", 0) == [32]  # HEVC VPS header
    assert nal_unit_types(b"\xff\xd8\xff", "mjpeg", 0) == []


def test_hrd_cbr_flag_is_read_from_the_headers(clips: dict[str, Path]) -> None:
    """FFmpeg's header parser finds cbr_flag = 1 in the CBR encode; the VBR ones carry no HRD or cbr 0."""
    for name, want in (("cbr", True), ("vbr", None), ("ts_small", None)):
        reader = PacketReader(clips[name], camera="cam")
        it = iter(reader)
        start = next(it)
        assert isinstance(start, StreamStart)
        key = next(p for p in it if isinstance(p, Packet) and p.keyframe)
        assert hrd_constant_bitrate(start.stream, key.av_packet) is want, name
        assert key.av_packet.size == key.size  # the packet is left whole (it is decoded later)
        reader.close()
    # the log level is an int again, never None (PyAV's None races other threads' log messages)
    assert isinstance(av.logging.get_level(), int)
