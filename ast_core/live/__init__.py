"""Live tagging: microphone -> ring buffer -> newest window -> labels, with its cost measured.

Shared by the desktop app's Live view and Record dialog, `ast-studio listen` and
`ast-studio bench --live`; no Qt. `microphone` (devices, `MicStream`, `LiveError`) fills a
`ring.FrameRing` from the PortAudio callback; `analyzer.LiveAnalyzer` scores its newest window
every hop; `take.Take` keeps everything captured from Start to Stop (a recording);
`feeder.RealTimeFeeder` plays samples into a ring in real time, as a microphone would;
`threads` sets how many torch threads live analysis uses.
"""
