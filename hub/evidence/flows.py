"""Checking a site's evidence: every stored chain walked, every checkpoint checked."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.evidence import chains, checkpoints
from hub.evidence.chains import ChainReport, Expected
from hub.evidence.keys import Keyring
from hub.registry.models import Device


@dataclass
class SiteCheck:
    """What a check of one site found."""

    site_id: str
    devices: list[ChainReport] = field(default_factory=list)
    checkpoint_problems: list[str] = field(default_factory=list)
    checkpoints: int = 0

    @property
    def ok(self) -> bool:
        """Every chain and every checkpoint intact."""
        return not self.checkpoint_problems and all(d.intact for d in self.devices)

    def problems(self) -> list[str]:
        """Every problem, each naming its device or checkpoint."""
        found = [f"{self.site_id}: {p}" for p in self.checkpoint_problems]
        for report in self.devices:
            found += [f"{self.site_id}/{report.device_id}: {p}" for p in report.problems[:1]]
        return found


def check_site(
    *,
    session: Session,
    site_id: str,
    keyring: Keyring,
    zone: tzinfo,
    device_ids: Sequence[str] | None = None,
    extra: Mapping[str, Sequence[Expected]] | None = None,
) -> SiteCheck:
    """Walk the chains of the site's devices (or of `device_ids`) against the checkpoints and
    any `extra` records (a pack made earlier); the first broken link of each device."""
    rows = checkpoints.all_of(session=session, site_id=site_id)
    problems, expected = checkpoints.check(rows=rows, keyring=keyring, zone=zone)
    published = checkpoints.journal(keyring.directory, site_id)
    more, outside = checkpoints.check_journal(rows=rows, published=published, keyring=keyring)
    problems += more
    for device, found in outside.items():
        expected.setdefault(device, []).extend(found)
    result = SiteCheck(site_id, checkpoint_problems=problems, checkpoints=len(rows))
    ids = (
        list(device_ids)
        if device_ids is not None
        else list(
            session.scalars(select(Device.id).where(Device.site_id == site_id).order_by(Device.id))
        )
    )
    heads = chains.states(session=session, device_ids=ids)
    keys = {kid: key.public_key for kid, key in keyring.public_keys().items()}
    for device_id in ids:
        wanted = [*expected.get(device_id, ()), *(extra or {}).get(device_id, ())]
        runs, run_problems = chains.pruned_runs(session=session, device_id=device_id, keys=keys)
        report = chains.walk(session=session, device_id=device_id, expected=wanted, runs=runs)
        report.problems[:0] = run_problems
        chains.compare_state(report, heads.get(device_id))
        if report.count or report.problems:
            result.devices.append(report)
    return result
