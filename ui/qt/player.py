"""Playing the cut inside the panel, and the viewer that shows a frame.

:class:`Player` plays the rendered preview (picture and music) with QtMultimedia and reports
the position as a timeline frame, so the timeline's playhead follows; ``J``/``K``/``L`` and
Space work as in an NLE (``L`` again plays faster, ``J`` plays backwards by stepping frames,
``K`` stops). :class:`FrameView` draws a frame whole, scaled to fit at its display aspect,
with a caption (clip name, source timecode, score).
"""

from __future__ import annotations

import logging
import threading
import time
from fractions import Fraction

from PySide6.QtCore import QObject, QRectF, QSize, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

log = logging.getLogger(__name__)

try:  # PySide6-Addons: QtMultimedia (with its FFmpeg backend)
    from PySide6.QtMultimedia import QAudioOutput, QMediaDevices, QMediaPlayer, QVideoFrame, QVideoSink

    HAVE_MULTIMEDIA = True
except ImportError:  # pragma: no cover - PySide6-Essentials alone
    HAVE_MULTIMEDIA = False


class FrameView(QWidget):
    """One picture, whole and centred at the aspect it is given, with a caption under it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(QSize(200, 80))
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self._image: QImage | None = None
        self._aspect: float | None = None
        self.fast = False  # while playing: no smooth scaling (a frame every 40 ms must stay cheap)
        self._caption = "Click a clip in the cut to see it; Space plays the cut."

    def set_image(self, image: QImage | None, caption: str | None = None, *, aspect: float | None = None) -> None:
        """``aspect``: the display aspect (width / height) to show it at (default the image's)."""
        self._image = image if image is not None and not image.isNull() else None
        self._aspect = aspect
        if caption is not None:
            self._caption = caption
        self.update()

    def set_caption(self, caption: str) -> None:
        self._caption = caption
        self.update()

    def image(self) -> QImage | None:
        return self._image

    def caption(self) -> str:
        return self._caption

    def picture_rect(self) -> QRectF:
        """Where the picture is drawn: the largest rectangle of its aspect that fits."""
        area = QRectF(self.rect()).adjusted(4, 4, -4, -22)
        if self._image is None or area.width() <= 0 or area.height() <= 0:
            return QRectF()
        aspect = self._aspect or self._image.width() / max(self._image.height(), 1)
        w = min(area.width(), area.height() * aspect)
        h = w / aspect
        return QRectF(area.x() + (area.width() - w) / 2, area.y() + (area.height() - h) / 2, w, h)

    def paintEvent(self, event) -> None:  # noqa: N802 - Qt API
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(12, 12, 14))
        if self._image is not None:
            painter.setRenderHint(QPainter.SmoothPixmapTransform, not self.fast)
            painter.drawImage(self.picture_rect(), self._image)
        painter.setPen(QColor(210, 210, 210))
        painter.drawText(QRectF(self.rect()).adjusted(6, 0, -6, -3), Qt.AlignBottom | Qt.AlignHCenter, self._caption)


class _Converter(QObject):
    """Turns the newest video frame into a QImage on its own thread; older ones are dropped."""

    image = Signal(QImage)

    def __init__(self) -> None:
        super().__init__()
        self._latest = None
        self._wake = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="frame converter", daemon=True)
        self._thread.start()

    def offer(self, frame) -> None:
        with self._wake:
            self._latest = QVideoFrame(frame)
            self._wake.notify()

    def close(self) -> None:
        with self._wake:
            self._stop = True
            self._wake.notify()
        self._thread.join(2)

    def _run(self) -> None:
        while True:
            with self._wake:
                while self._latest is None and not self._stop:
                    self._wake.wait()
                if self._stop:
                    return
                frame, self._latest = self._latest, None
            started = time.monotonic()
            image = frame.toImage()
            cost = time.monotonic() - started
            if not image.isNull():
                try:
                    self.image.emit(image)
                except RuntimeError:  # the player is gone
                    return
            if cost > 0.008:
                # A slow conversion (software OpenGL, as under Xvfb: ~20 ms a 540p frame) holds
                # the interpreter: leave the window three times as long before the next one.
                time.sleep(min(3 * cost, 0.25))


class Player(QObject):
    """Plays a preview file; :attr:`frame` carries each new position as a timeline frame at
    ``rate``, :attr:`picture` each decoded picture, :attr:`state` "playing"/"paused"/"stopped"."""

    frame = Signal(int)
    picture = Signal(QImage)
    state = Signal(str)
    error = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.rate = Fraction(25)
        self.path: str | None = None
        self.speed = 0.0  # >0 forward, <0 backward, 0 stopped
        self._reverse = QTimer(self)
        self._reverse.timeout.connect(self._step_back)
        self._poll = QTimer(self)
        self._poll.setInterval(40)
        self._poll.timeout.connect(self._report)
        self.has_audio_device = False
        self._player = None
        if HAVE_MULTIMEDIA:
            self._player = QMediaPlayer(self)
            self._audio = QAudioOutput(self)
            self._player.setAudioOutput(self._audio)
            self._sink = QVideoSink(self)
            self._player.setVideoSink(self._sink)
            self._converter = _Converter()
            self._converter.image.connect(self.picture.emit)
            self._sink.videoFrameChanged.connect(self._on_video_frame)
            self._player.errorOccurred.connect(lambda _e, message: self.error.emit(message))
            self._player.playbackStateChanged.connect(self._on_state)
            self.has_audio_device = bool(QMediaDevices.audioOutputs())

    @property
    def available(self) -> bool:
        return self._player is not None

    def load(self, path: str, rate: Fraction) -> None:
        self.rate = Fraction(rate)
        if self._player is None:
            self.error.emit("playback needs QtMultimedia (pip install PySide6-Addons)")
            return
        if path != self.path:
            self.path = path
            self._player.setSource(QUrl.fromLocalFile(path))

    def position_frame(self) -> int:
        if self._player is None:
            return 0
        return int(self._player.position() * self.rate / 1000)

    def seek(self, frame: int) -> None:
        if self._player is not None:
            self._player.setPosition(int(round(1000 * frame / self.rate)))

    def play(self, speed: float = 1.0) -> None:
        if self._player is None or self.path is None:
            return
        self._reverse.stop()
        self.speed = speed
        if speed > 0:
            self._player.setPlaybackRate(speed)
            self._player.play()
        else:
            self._player.pause()
            self._reverse.start(max(int(1000 / (float(self.rate) * abs(speed))), 10))
        self._poll.start()
        self.state.emit("playing")

    def pause(self) -> None:
        self._reverse.stop()
        self.speed = 0.0
        if self._player is not None:
            self._player.pause()
        self._poll.stop()
        self._report()
        self.state.emit("paused")

    def close(self) -> None:
        """Stop and end the converter's thread (the window is closing)."""
        self.stop()
        if self._player is not None:
            self._converter.close()

    def stop(self) -> None:
        self._reverse.stop()
        self._poll.stop()
        self.speed = 0.0
        if self._player is not None:
            self._player.stop()
        self.state.emit("stopped")

    def toggle(self) -> None:
        self.pause() if self.speed else self.play(1.0)

    def forward(self) -> None:
        """``L``: play; again: twice as fast (up to 4x)."""
        self.play(min(self.speed * 2, 4.0) if self.speed > 0 else 1.0)

    def backward(self) -> None:
        """``J``: play backwards; again: twice as fast (up to 4x)."""
        self.play(max(self.speed * 2, -4.0) if self.speed < 0 else -1.0)

    def _step_back(self) -> None:
        frame = self.position_frame() - 1
        if frame < 0:
            self.pause()
            return
        self.seek(frame)

    def _report(self) -> None:
        self.frame.emit(self.position_frame())

    def _on_video_frame(self, video_frame) -> None:
        # The colour conversion takes ~20 ms a 540p frame: on the converter's thread, the
        # newest frame only, so the window keeps turning.
        self._converter.offer(video_frame)

    def _on_state(self, state) -> None:
        if state == QMediaPlayer.StoppedState and self.speed > 0:
            self.speed = 0.0
            self._poll.stop()
            self._report()
            self.state.emit("stopped")
