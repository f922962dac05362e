"""Playing the cut inside the panel, and the viewer that shows a frame.

:class:`Player` plays the rendered preview (picture and music) with QtMultimedia and reports
the position as a timeline frame, so the timeline's playhead follows; ``J``/``K``/``L`` and
Space work as in an NLE (``L`` again plays faster, ``J`` plays backwards by stepping frames,
``K`` stops). :class:`FrameView` draws a frame whole, scaled to fit at its display aspect,
with a caption (clip name, source timecode, score).
"""

from __future__ import annotations

import logging
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


class _NewestFrame(QObject):
    """Turns the newest played frame into a QImage on the window's own thread, once per turn
    of the event loop: frames that arrive while one waits replace it (the older is dropped).

    Without OpenGL (:func:`~.panel.use_raster_only`) a 540p frame converts in ~0.3 ms, so
    the window keeps turning. No thread of ours touches a frame that QtMultimedia's own
    threads made: a Python thread converting one (holding the interpreter) while the player
    was torn down is a deadlock waiting to happen."""

    image = Signal(QImage)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._latest = None
        self._due = QTimer(self)
        self._due.setSingleShot(True)
        self._due.setInterval(0)
        self._due.timeout.connect(self._convert)

    def offer(self, frame) -> None:
        self._latest = QVideoFrame(frame)
        if not self._due.isActive():
            self._due.start()

    def close(self) -> None:
        self._due.stop()
        self._latest = None

    def _convert(self) -> None:
        frame, self._latest = self._latest, None
        if frame is None or not frame.isValid():
            return
        image = frame.toImage()
        if not image.isNull():
            self.image.emit(image)


class Player(QObject):
    """Plays a preview file; :attr:`frame` carries each new position as a timeline frame at
    ``rate``, :attr:`picture` each decoded picture, :attr:`state` "playing"/"paused"/"stopped"."""

    frame = Signal(int)
    picture = Signal(QImage)
    state = Signal(str)
    error = Signal(str)

    def __init__(self, parent: QObject | None = None, *, video: bool = True) -> None:
        """``video=False``: sound only (the click track), no picture is decoded or shown."""
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
            self._audio = None  # made when there is a device to play to (_attach_audio)
            self._converter = None
            if video:
                self._sink = QVideoSink(self)
                self._player.setVideoSink(self._sink)
                self._converter = _NewestFrame(self)
                self._converter.image.connect(self.picture.emit)
                self._sink.videoFrameChanged.connect(self._converter.offer)
            self._player.errorOccurred.connect(lambda _e, message: self.error.emit(message))
            self._player.playbackStateChanged.connect(self._on_state)
            self._attach_audio()

    def _attach_audio(self) -> None:
        """Play the sound to the default output, once the machine has one.

        With no output device there is no QAudioOutput at all: the player then keeps time on
        its own clock. A QAudioOutput made here is a Python object, and QtMultimedia's audio
        thread, tearing down its sink, calls into it while holding one of Qt's connection
        locks; the window's thread, holding the interpreter, can be waiting for that same
        lock (seen: a test run that hung in the click track's playback, gdb's stacks in
        docs/qt_playback.md). Without a device nothing is heard anyway."""
        if self._audio is not None or not QMediaDevices.audioOutputs():
            self.has_audio_device = self._audio is not None
            return
        self._audio = QAudioOutput(self)
        self._player.setAudioOutput(self._audio)
        self.has_audio_device = True

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
        self._attach_audio()
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
        """Stop, and drop the frame waiting to be shown (the window is closing)."""
        self.stop()
        if self._player is not None and self._converter is not None:
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

    def _on_state(self, state) -> None:
        if state == QMediaPlayer.StoppedState and self.speed > 0:
            self.speed = 0.0
            self._poll.stop()
            self._report()
            self.state.emit("stopped")
