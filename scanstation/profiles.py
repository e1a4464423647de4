"""Scan profiles: named capture settings an administrator can define and lock.

Defaults follow DA/T 31: colour (R01), 300 dpi (R02), JPEG masters (R04). A locked profile cannot
be overridden at the desk; an unlocked one can, and the override is logged with the page.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from scanstation import settings
from scanstation.errors import InvalidInput, NotFound
from scanstation.rules import MIN_DPI

FORMATS = ("jpeg", "tiff", "jp2")
MODES = ("color", "gray", "lineart")
SOURCES = ("flatbed", "adf", "duplex")


@dataclass
class ScanProfile:
    name: str
    device: str = "demo"
    source: str = "adf"
    mode: str = "color"
    dpi: int = 300
    paper: tuple[float, float] = (210.0, 297.0)  # mm, A4
    format: str = "jpeg"
    jpeg_quality: int = 85
    deskew: bool = True
    crop: bool = True
    crop_margin_mm: float = 3.0
    orientation: bool = False
    blank_detection: bool = True
    locked: bool = False

    def validate(self) -> ScanProfile:
        if self.dpi < MIN_DPI:
            raise InvalidInput(
                "{dpi} dpi is below the minimum of 200 dpi for masters (R02). Use 300 dpi.",
                "{dpi} dpi 低于母版最低 200 dpi 的要求（R02）。请使用 300 dpi。",
                dpi=self.dpi,
            )
        if self.mode is not None and self.mode not in MODES:  # None: each file keeps its own mode (import)
            raise InvalidInput("Unknown colour mode '{m}'.", "未知色彩模式“{m}”。", m=self.mode)
        if self.source not in SOURCES:
            raise InvalidInput("Unknown paper source '{s}'.", "未知纸张来源“{s}”。", s=self.source)
        if self.format not in FORMATS:
            raise InvalidInput(
                "Unknown master format '{f}' (R04: jpeg, tiff or jp2).",
                "未知母版格式“{f}”（R04：jpeg、tiff 或 jp2）。",
                f=self.format,
            )
        if not 50 <= self.jpeg_quality <= 100:
            raise InvalidInput("JPEG quality must be 50-100.", "JPEG 质量须在 50-100 之间。")
        if self.crop_margin_mm < 2.0:
            raise InvalidInput(
                "The crop margin must keep at least 2 mm outside the page edge (R07).",
                "裁边须在页面边缘外至少保留 2 毫米（R07）。",
            )
        return self

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ScanProfile:
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        if "paper" in values:
            values["paper"] = tuple(values["paper"])
        return cls(**values).validate()


DEFAULT_PROFILES = [
    ScanProfile("标准彩色"),
    ScanProfile("灰度", mode="gray"),
    ScanProfile("双面彩色", source="duplex"),
    ScanProfile("高精度600", dpi=600),
]


def all_profiles(home) -> list[ScanProfile]:
    stored = home.setting("profiles")
    if not stored:
        return list(DEFAULT_PROFILES)
    return [ScanProfile.from_dict(p) for p in stored]


def get_profile(home, name: str | None) -> ScanProfile:
    profiles = all_profiles(home)
    if not name:
        return profiles[0]
    for p in profiles:
        if p.name == name:
            return p
    raise NotFound(
        "No scan profile named '{n}'. Profiles: {all}.",
        "没有名为“{n}”的扫描方案。现有方案：{all}。",
        n=name,
        all=", ".join(p.name for p in profiles),
    )


def save_profile(session, profile: ScanProfile) -> None:
    profile.validate()
    profiles = [p for p in all_profiles(session.home) if p.name != profile.name] + [profile]
    with session.change("settings.manage", "profile.save", "profile", profile.name) as ch:
        settings.store(ch.conn, "profiles", [p.as_dict() for p in profiles])
        ch.after = profile.as_dict()
