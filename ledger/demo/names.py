"""Khmer personal names for the demo ledger, in Khmer script with their usual Latin spellings.

A Khmer full name is written family name first ("សុខ ស្រីមុំ", "Sok Sreymom"); the lists hold
(Khmer, Latin) pairs so that a drawn name always has both forms.
"""

from __future__ import annotations

import random
from enum import StrEnum


class Sex(StrEnum):
    """Sex of a household head, as the Foundation's registration form records it."""

    FEMALE = "F"
    MALE = "M"


FAMILY_NAMES: tuple[tuple[str, str], ...] = (
    ("សុខ", "Sok"),
    ("ចាន់", "Chan"),
    ("ជា", "Chea"),
    ("ហេង", "Heng"),
    ("លី", "Ly"),
    ("ឈឹម", "Chhim"),
    ("គឹម", "Kim"),
    ("កែវ", "Keo"),
    ("ម៉ៅ", "Mao"),
    ("មាស", "Meas"),
    ("នួន", "Nuon"),
    ("ពៅ", "Pov"),
    ("ព្រំ", "Prum"),
    ("សំ", "Sam"),
    ("ស៊ុន", "Sun"),
    ("ទេព", "Tep"),
    ("ឯក", "Ek"),
    ("អ៊ុំ", "Um"),
    ("យឹម", "Yim"),
    ("ខៀវ", "Khieu"),
    ("ឡុង", "Long"),
    ("ញឹម", "Nhim"),
    ("សៅ", "Sao"),
    ("ពេជ្រ", "Pech"),
    ("ម៉ម", "Mom"),
    ("ប៊ុន", "Bun"),
    ("សួន", "Suon"),
    ("វ៉ាន់", "Van"),
    ("ថាច់", "Thach"),
    ("អ៊ឹម", "Im"),
    ("ឆាយ", "Chhay"),
    ("ប៉ែន", "Pen"),
    ("សេង", "Seng"),
    ("ទូច", "Touch"),
    ("ឃុន", "Khun"),
)

FEMALE_GIVEN_NAMES: tuple[tuple[str, str], ...] = (
    ("ស្រីមុំ", "Sreymom"),
    ("ស្រីពៅ", "Sreypov"),
    ("ស្រីនាង", "Sreyneang"),
    ("ស្រីល័ក្ខ", "Sreyleak"),
    ("ស្រីនិច", "Sreynich"),
    ("ស្រីណា", "Sreyna"),
    ("ស្រីពេជ្រ", "Sreypich"),
    ("ស្រីរ័ត្ន", "Sreyrath"),
    ("ស្រីអូន", "Sreyoun"),
    ("ស្រីតូច", "Sreytouch"),
    ("ស្រីឡា", "Sreyla"),
    ("ស្រីលីន", "Sreylin"),
    ("ស្រីម៉ៅ", "Sreymao"),
    ("សុភាព", "Sopheap"),
    ("សុភា", "Sophea"),
    ("ចន្ធូ", "Chanthou"),
    ("ចន្ថា", "Chantha"),
    ("ធីតា", "Thida"),
    ("ដាវី", "Davy"),
    ("សុខា", "Sokha"),
    ("បុប្ផា", "Bopha"),
    ("រស្មី", "Rasmey"),
    ("ម៉ាលី", "Maly"),
    ("ម៉ាលា", "Mala"),
    ("សុគន្ធា", "Sokunthea"),
    ("កញ្ញា", "Kanha"),
    ("ណារី", "Nary"),
    ("ចាន់ធី", "Chanthy"),
    ("ស៊ីថា", "Sitha"),
    ("លក្ខិណា", "Leakhena"),
    ("សុវណ្ណារី", "Sovannary"),
    ("គន្ធា", "Kunthea"),
    ("រតនា", "Ratana"),
    ("ភ័ក្ត្រា", "Phaktra"),
    ("នារី", "Neary"),
    ("ពិសី", "Pisey"),
    ("ចរិយា", "Chariya"),
    ("សុម៉ាលី", "Somaly"),
    ("ធារី", "Theary"),
    ("ចិន្តា", "Chenda"),
    ("សុជាតា", "Socheata"),
    ("វិច្ឆិកា", "Vichika"),
    ("ណាវី", "Navy"),
    ("ផល្លា", "Phalla"),
)

MALE_GIVEN_NAMES: tuple[tuple[str, str], ...] = (
    ("សុផល", "Sophal"),
    ("វណ្ណា", "Vanna"),
    ("ដារ៉ា", "Dara"),
    ("សុភ័ក្ត្រ", "Sopheak"),
    ("វិចិត្រ", "Vichet"),
    ("សំណាង", "Samnang"),
    ("ប៊ុនធឿន", "Bunthoeun"),
    ("សារឿន", "Saroeun"),
    ("ពិសិដ្ឋ", "Piseth"),
    ("រិទ្ធី", "Rithy"),
    ("វុទ្ធី", "Vuthy"),
    ("ចាន់ណា", "Channa"),
    ("សុខហេង", "Sokheng"),
    ("សម្បត្តិ", "Sambath"),
    ("បូរ៉ា", "Bora"),
    ("វីរៈ", "Vireak"),
    ("សុវណ្ណ", "Sovann"),
    ("រដ្ឋា", "Ratha"),
    ("សុធា", "Sothea"),
    ("សារ៉ាត់", "Sarath"),
    ("ឈឿន", "Chhoeun"),
    ("ធឿន", "Thoeun"),
    ("សោភ័ណ", "Sophorn"),
    ("កុសល", "Kosal"),
    ("មករា", "Makara"),
    ("វាសនា", "Veasna"),
    ("សុខុម", "Sokhom"),
    ("ផល", "Phal"),
    ("ឃឿន", "Khoeun"),
    ("ចំរើន", "Chamroeun"),
    ("ធារ៉ា", "Theara"),
    ("វិបុល", "Vibol"),
    ("បញ្ញា", "Panha"),
    ("សំអឿន", "Samoeun"),
    ("ពុទ្ធី", "Puthy"),
)


def given_names(sex: Sex) -> tuple[tuple[str, str], ...]:
    """The (Khmer, Latin) given names used for a person of this sex."""
    return FEMALE_GIVEN_NAMES if sex == Sex.FEMALE else MALE_GIVEN_NAMES


def draw_name(rng: random.Random, sex: Sex) -> tuple[str, str]:
    """Draw a full name as (Khmer, Latin), family name first, e.g. ("សុខ ស្រីមុំ", "Sok Sreymom").

    Only `rng` is consulted, so a seeded generator always yields the same names.
    """
    family_kh, family_latin = rng.choice(FAMILY_NAMES)
    given_kh, given_latin = rng.choice(given_names(sex))
    return f"{family_kh} {given_kh}", f"{family_latin} {given_latin}"


__all__ = [
    "FAMILY_NAMES",
    "FEMALE_GIVEN_NAMES",
    "MALE_GIVEN_NAMES",
    "Sex",
    "draw_name",
    "given_names",
]
