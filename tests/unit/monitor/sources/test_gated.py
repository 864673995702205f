"""GatedSource on real clips: quiet stretches stay in watch mode, entries are found within 1 s of the
labelled onset and decoded from the keyframe before the trigger, and each bad stream falls back with
its reason (logged once).

Clips are made with ffmpeg from the bundled ``one-by-one-person-detection.mp4`` (labelled onsets in
tests/data/labels/one-by-one-person-detection.yaml): its empty room (from 2 s) is held still for
40 s with ``tpad``, then the clip goes on and the first person walks in. The night-like variant is
darkened and has temporal sensor noise (``noise=alls=4:allf=t``) over the whole clip, the still
part included.
"""

from __future__ import annotations

import itertools
import logging
import subprocess
from pathlib import Path

import pytest

from safecity.errors import SourceError
from safecity.monitor.evaluation.labels import load_labels
from safecity.monitor.sources.gate import GateConfig
from safecity.monitor.sources.gated import GatedSource
from safecity.monitor.sources.packets import Packet, PacketReader, StreamStart, nal_unit_types
from safecity.monitor.sources.readers import DecodedFrame, FileSource

REPO = Path(__file__).resolve().parents[4]
ROOM = REPO / "data" / "video" / "intel-sample-videos" / "one-by-one-person-detection.mp4"
LOT = REPO / "data" / "video" / "intel-sample-videos" / "car-detection.mp4"
LABELS = REPO / "tests" / "data" / "labels" / "one-by-one-person-detection.yaml"
CUT_S = 2.0  # the clips start at this time of the bundled clip
STILL_S = 40.0  # ... held still this long
BOUND_S = 1.0  # stated latency bound: the gate is active by onset + 1 s
ENC = ["-c:v", "libx264", "-preset", "veryfast", "-bf", "0", "-pix_fmt", "yuv420p", "-an"]


def _ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=120)


def _first_onset() -> float:
    """The first labelled intrusion onset of the bundled clip, in the time of the made clips."""
    starts = [e.start_s for e in load_labels(LABELS).doc.events if e.type == "intrusion"]
    return min(starts) - CUT_S + STILL_S


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("gated")
    base = f"scale=480:270,fps=10,tpad=start_mode=clone:start_duration={STILL_S:g}"
    out = {
        k: d / f"{k}.mp4" for k in ("quiet_entry", "night_entry", "cbr", "cbr_no_filler", "intra", "long_gop")
    }
    cut = ["-ss", str(CUT_S), "-t", "12", "-i", str(ROOM)]
    _ffmpeg(*cut, "-vf", base, *ENC, "-g", "10", str(out["quiet_entry"]))
    _ffmpeg(
        *cut,
        "-vf",
        f"{base},eq=brightness=-0.25,noise=alls=4:allf=t",
        *ENC,
        "-g",
        "10",
        str(out["night_entry"]),
    )
    short = ["-ss", str(CUT_S), "-t", "8", "-i", str(ROOM), "-vf", "scale=320:180,fps=10"]
    _ffmpeg(
        *short, *ENC, "-g", "10", "-b:v", "300k", "-maxrate", "300k", "-minrate", "300k", "-bufsize", "150k",
        "-x264-params", "nal-hrd=cbr", str(out["cbr"]),
    )  # fmt: skip
    # CBR that never has to pad: a detailed still (the car park) with sensor noise fills 500 kb/s
    # (one encoder thread: x264's threaded rate control is not deterministic)
    still = d / "lot.png"
    _ffmpeg("-ss", "11", "-i", str(LOT), "-frames:v", "1", str(still))
    _ffmpeg(
        "-loop", "1", "-framerate", "10", "-i", str(still), "-t", "6",
        "-vf", "scale=640:360,noise=alls=4:allf=t",
        *ENC, "-threads", "1", "-g", "20", "-b:v", "500k", "-maxrate", "500k", "-minrate", "500k",
        "-bufsize", "400k", "-x264-params", "nal-hrd=cbr", str(out["cbr_no_filler"]),
    )  # fmt: skip
    _ffmpeg(*short, *ENC, "-g", "1", str(out["intra"]))
    _ffmpeg(
        "-ss", "4", "-t", "12", "-i", str(ROOM), "-vf", "scale=480:270,fps=10", *ENC, "-g", "1000",
        "-keyint_min", "1000", "-sc_threshold", "0", str(out["long_gop"]),
    )  # fmt: skip
    # MPEG-TS with 20 transport packets cut out of the middle: a continuity error -> corrupt packet
    ts = d / "clean.ts"
    _ffmpeg(*short, *ENC, "-g", "10", "-f", "mpegts", str(ts))
    data = ts.read_bytes()
    mid = (len(data) // 188 // 2) * 188
    out["corrupt"] = d / "corrupt.ts"
    out["corrupt"].write_bytes(data[:mid] + data[mid + 20 * 188 :])
    # a still 320x180 room for 12 s, then the same room at 480x270 (in-band SPS change, one stream)
    parts = []
    for i, size in enumerate(("320:180", "480:270")):
        part = d / f"part{i}.ts"
        _ffmpeg("-ss", str(CUT_S), "-t", "0.1", "-i", str(ROOM), "-vf",
                f"scale={size},fps=10,tpad=start_mode=clone:start_duration={12 - 6 * i}", *ENC, "-g", "10",
                "-f", "mpegts", str(part))  # fmt: skip
        parts.append(part)
    listing = d / "parts.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in parts))
    out["resolution"] = d / "resolution.ts"
    _ffmpeg("-f", "concat", "-safe", "0", "-i", str(listing), "-c", "copy", str(out["resolution"]))
    return out


def _packet_times(path: Path) -> list[float]:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "v", "-show_entries", "packet=pts_time",
         "-of", "csv=p=0", str(path)], check=True, capture_output=True, text=True, timeout=60,
    ).stdout  # fmt: skip
    times = [float(line.strip(", ")) for line in out.split() if line.strip(", ")]
    return [t - min(times) for t in times]


def _has_filler(path: Path) -> bool:
    reader = PacketReader(path, camera="cam")
    items = list(reader)
    (start,) = [i for i in items if isinstance(i, StreamStart)]
    ls = start.params.nal_length_size
    return any(12 in nal_unit_types(bytes(p.av_packet), "h264", ls) for p in items if isinstance(p, Packet))


def _run(path: Path, **kw: object) -> tuple[GatedSource, list[tuple[DecodedFrame, bool]], list[float]]:
    """All (frame, watch) pairs, and the gate's trigger times (active_since of each activation)."""
    src = GatedSource(path, camera="cam", **kw)  # type: ignore[arg-type]
    items: list[tuple[DecodedFrame, bool]] = []
    triggers: list[float] = []
    for item, watch in src.marked():
        assert isinstance(item, DecodedFrame)
        items.append((item, watch))
        since = src.gate.active_since
        if since is not None and (not triggers or since != triggers[-1]):
            triggers.append(since)
    return src, items, triggers


@pytest.mark.parametrize("clip", ["quiet_entry", "night_entry"])
def test_entry_after_a_long_quiet_stretch(clips: dict[str, Path], clip: str) -> None:
    onset = _first_onset()
    src, items, triggers = _run(clips[clip], detect_fps=5.0)
    status = src.status()
    assert status.gate_mode == "compressed" and status.fallback_reason is None
    learn_end = GateConfig().learn_s + 1.0
    # the quiet stretch: only health keyframes (watch=True), about one per 5 s, nothing else decoded
    quiet = [(f.t_s, w) for f, w in items if learn_end < f.t_s < STILL_S]
    assert quiet and all(w for _, w in quiet), [t for t, w in quiet if not w]
    assert 6 <= len(quiet) <= 8
    assert status.watch_s > STILL_S - learn_end - 1
    # found within the bound after the labelled onset (and not long before: the walk-in starts ~1 s early)
    after_quiet = [t for t in triggers if t > learn_end]
    assert after_quiet, "the entry was not found"
    trigger = after_quiet[0]
    assert onset - 3.0 <= trigger <= onset + BOUND_S, (trigger, onset)
    # decoding starts at the keyframe before the trigger: every 0.2 s from there on is delivered
    active = [f.t_s for f, w in items if not w and f.t_s > STILL_S - 1]
    assert active[0] <= trigger and trigger - active[0] < 1.0 + 1e-6  # GOP = 1 s
    window = [t for t in active if t <= onset + 5.0]
    assert all(0.15 < b - a < 0.25 for a, b in itertools.pairwise(window)), window
    assert window[-1] >= onset + 4.7


def test_frames_match_the_plain_reader_in_decode_mode() -> None:
    """mode='decode' yields what FileSource yields (same times, indices and pixels), B-frames included."""
    gated = GatedSource(ROOM, camera="cam", detect_fps=5.0, mode="decode")
    plain = FileSource(ROOM, camera="cam", detect_fps=5.0)
    a = list(itertools.islice(iter(gated), 60))
    b = list(itertools.islice(iter(plain), 60))
    gated.close()
    plain.close()
    assert [f.index for f in a] == [f.index for f in b]  # type: ignore[union-attr]
    assert [f.t_s for f in a] == pytest.approx([f.t_s for f in b], abs=1e-9)  # type: ignore[union-attr]
    assert all((f.gray == g.gray).all() for f, g in zip(a, b, strict=True))  # type: ignore[union-attr]
    assert gated.status().gate_mode == "decode" and gated.status().fallback_reason == "configured"


def test_bundled_room_is_active_at_every_labelled_entry() -> None:
    """On the real clip (people one after another, B-frames) the gate is active by every onset + 1 s."""
    src, items, _ = _run(ROOM, detect_fps=5.0)
    onsets = [e.start_s for e in load_labels(LABELS).doc.events if e.type == "intrusion"]
    active_times = [f.t_s for f, w in items if not w]
    for onset in onsets:
        near = [t for t in active_times if onset <= t <= onset + BOUND_S]
        assert len(near) >= 4, onset  # 5 fps: the frames around the onset are analysed
    assert src.status().gate_mode == "compressed"


@pytest.mark.parametrize(
    ("clip", "reason", "gate"),
    [
        ("cbr", "constant_bitrate", GateConfig()),
        ("cbr_no_filler", "constant_bitrate", GateConfig()),
        ("intra", "all_intra", GateConfig()),
        ("long_gop", "gop_exceeds_memory", GateConfig(max_buffer_bytes=64 * 1024)),
        ("corrupt", "corrupt_packet", GateConfig()),
        ("resolution", "resolution_change", GateConfig()),
    ],
)
def test_bad_streams_fall_back_to_decoding_every_frame(
    clips: dict[str, Path], clip: str, reason: str, gate: GateConfig, caplog: pytest.LogCaptureFixture
) -> None:
    if clip == "cbr_no_filler":  # the HRD cbr_flag finds it, not padding
        assert not _has_filler(clips[clip])
    with caplog.at_level(logging.WARNING, logger="safecity.monitor.sources.gated"):
        src, items, _ = _run(clips[clip], detect_fps=None, gate=gate)
    status = src.status()
    assert (status.gate_mode, status.fallback_reason) == ("decode", reason)
    assert status.fallback_text and status.state == "active"
    warnings = [r for r in caplog.records if "gate off" in r.getMessage()]
    assert len(warnings) == 1 and reason in warnings[0].getMessage()  # logged once
    # from the fallback on, every frame is decoded and handed on: the camera never goes blind
    assert not any(w for _, w in items[-20:])
    times = [f.t_s for f, _ in items]
    assert all(b > a for a, b in itertools.pairwise(times))
    since = status.fallback_since_s
    assert since is not None
    packets_after = sum(1 for t in _packet_times(clips[clip]) if t >= since)
    frames_after = sum(1 for t in times if t >= since)
    assert frames_after >= packets_after - (2 if reason == "corrupt_packet" else 0)
    if reason == "resolution_change":
        assert {f.width for f, _ in items} == {320, 480}
        # the change happened in watch mode (a still room): found from the new SPS, not from decoding all
        assert any(w for _, w in items)


def test_hold_keeps_decoding_through_a_quiet_stretch(clips: dict[str, Path]) -> None:
    src = GatedSource(clips["quiet_entry"], camera="cam", detect_fps=5.0)
    src.hold_active(30.0)
    items = list(itertools.takewhile(lambda fw: fw[0].t_s < 35.0, src.marked()))  # type: ignore[union-attr]
    src.close()
    held = [f.t_s for f, w in items if not w and f.t_s < 30.0]  # type: ignore[union-attr]
    assert len(held) >= 5 * 29  # every 0.2 s until the hold ends
    assert src.status().activations >= 1


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist"):
        GatedSource(tmp_path / "gone.mp4", camera="cam")
    with pytest.raises(ValueError, match="mode"):
        GatedSource(ROOM, camera="cam", mode="fast")  # type: ignore[arg-type]


def test_copy_cut_clip_has_the_plain_readers_frame_times(tmp_path: Path) -> None:
    """A clip cut with ``-c copy`` starts with edit-list pre-roll packets (negative times, never
    shown): the gated source's frames must carry the times ``FileSource`` gives them (labels,
    events), not times shifted by the pre-roll."""
    clip = tmp_path / "cut.mp4"
    street = REPO / "data" / "video" / "intel-sample-videos" / "person-bicycle-car-detection.mp4"
    _ffmpeg("-i", str(street), "-t", "4", "-an", "-c:v", "copy", str(clip))
    plain = [(f.index, round(f.t_s, 3)) for f in FileSource(clip, camera="c", detect_fps=5)]
    gated = [(f.index, round(f.t_s, 3)) for f, _ in GatedSource(clip, camera="c", detect_fps=5).marked()]
    assert plain[0][1] == 0.0
    assert [t for _, t in gated] == [t for _, t in plain]


def test_watch_at_decodes_the_frame_when_a_health_condition_matures(clips: dict[str, Path]) -> None:
    """Between two health keyframes (every 5 s) the worker may ask for the frame at a given time (a
    frozen/blurred condition reaching its duration): it comes as a watch frame, decoded from the
    kept packets, at that time, not at the next keyframe (GOP 1 s here: keyframes on whole seconds)."""
    src = GatedSource(clips["quiet_entry"], camera="cam", detect_fps=5)
    src.watch_at(20.55)
    watch_times = [round(item.t_s, 2) for item, watch in src.marked() if watch and item.t_s < 30]
    assert any(20.55 <= t <= 20.75 for t in watch_times), watch_times
    assert src.status().state in ("watch", "active")
