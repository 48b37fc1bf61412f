"""The typed fields of a Chinese official document (党政机关公文, GB/T 9704-2012) for ``layout: gongwen``.

Input: the ``gongwen:`` mapping of a spec.  Output: a validated :class:`Gongwen`.  The document's 标题 is
``meta.title`` and its 正文 is ``body`` (headings 1–3 become 一、/（一）/1., numbered automatically); this
model holds everything else the standard names, with field names in pinyin.  Like the rest of the spec it
knows nothing of layout or PDF: where each element goes is the layout's business.
"""
from __future__ import annotations

import datetime as _dt
import re
from typing import Annotated, Literal, Union

from pydantic import BeforeValidator, Field, field_validator, model_validator

from .base import SpecModel, Text
from .blocks import Block

# 发文字号: 机关代字 + 〔年份〕 + 序号 + 号, e.g. 国办发〔2026〕12号 (GB/T 9704-2012 7.2.5)
_ZIHAO = re.compile(r"^(?P<daizi>[^\s〔〕]+?)〔(?P<year>\d{4})〕(?P<n>[1-9]\d*)号$")
_WRONG_BRACKETS = re.compile(r"[\[［【(（]\s*\d{4}\s*[\]］】)）]")


def _as_list(v):
    return [v] if isinstance(v, str) else v


def _digits(v):
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


Names = Annotated[list[str], BeforeValidator(_as_list, json_schema_input_type=Union[str, list[str]])]


class Fujian(SpecModel):
    """一个附件：名称（附件说明与附件页标题共用），以及随正文装订时的内容。"""

    mingcheng: Text = Field(description="附件名称（不加标点符号）")
    body: list[Block] = Field(default_factory=list,
                              description="附件内容（另面编排于正文之后、版记之前）；为空则只列入附件说明")

    @field_validator("mingcheng")
    @classmethod
    def _no_end_punct(cls, v):
        texts = [v] if isinstance(v, str) else [x for x in (v.zh, v.en) if x]
        for t in texts:
            if t.rstrip()[-1:] in "。，；：.,;:":
                raise ValueError("附件名称后不加标点符号 (no punctuation after an attachment's name)")
        return v


Format = Literal["wenjian", "xinhan", "mingling", "jiyao"]
FORMAT_NAMES = {"wenjian": "文件格式", "xinhan": "信函格式", "mingling": "命令（令）格式", "jiyao": "纪要格式"}


class Gongwen(SpecModel):
    """党政机关公文的各要素（GB/T 9704-2012）。标题用 meta.title，正文用 body。"""

    format: Format = Field("wenjian", description=(
        "公文格式：wenjian 文件格式（7），xinhan 信函格式（10.1：标志距纸张上边缘 30 mm，红色双线，首页不显示页码），"
        "mingling 命令（令）格式（10.2：标志距版心上边缘 20 mm，令号，签发人签名章），jiyao 纪要格式（10.3：纪要标志，"
        "出席、请假、列席名单）"))
    fenhao: Annotated[str | None, BeforeValidator(_digits, json_schema_input_type=Union[str, int, None])] = Field(
        None, description="份号：1–6 位阿拉伯数字，排为 6 位（如 000123）")
    miji: Literal["秘密", "机密", "绝密"] | None = Field(None, description="密级")
    baomi_qixian: str | None = Field(None, description="保密期限，如 “1年”（与密级之间用 ★ 隔开）")
    jinji: Literal["特急", "加急"] | None = Field(None, description="紧急程度")
    biaozhi: Annotated[list[str], BeforeValidator(_as_list, json_schema_input_type=Union[str, list[str]])] = Field(
        min_length=1, description=(
            "发文机关标志：发文机关全称或规范化简称，可加“文件”二字，如 “××市人民政府文件”；"
            "联合行文时为各发文机关名称的列表，主办机关在前（文件格式在其右侧加“文件”二字）；"
            "命令格式以“令”或“命令”结尾，纪要格式以“纪要”结尾"))
    zihao: str | None = Field(None, description="发文字号，如 “×政发〔2026〕12号”（年份用六角括号，序号不编虚位）")
    qianfaren: Names = Field(default_factory=list,
                             description="签发人姓名（上报的公文须标注；标注后发文字号居左、签发人居右）")
    zhusong: list[Text] = Field(default_factory=list, description="主送机关，按顺序排列，以顿号分隔")
    fujian: list[Fujian] = Field(default_factory=list, description="附件（附件说明由附件名称生成）")
    shuming: Text | list[Text] | None = Field(
        None, description="发文机关署名；联合行文时为列表（主办机关在前），每个署名各加盖印章")
    chengwen_riqi: _dt.date = Field(description="成文日期（排为阿拉伯数字 “2026年3月5日”）")
    yinzhang: bool = Field(True, description=(
        "加盖印章：在署名和成文日期上画红色印章占位（正式印章另行加盖）；无署名时不用"))
    fuzhu: Text | None = Field(None, description="附注（自动加圆括号），如 “联系人：张三，电话：12345678”")
    chaosong: list[Text] = Field(default_factory=list, description="抄送机关")
    yinfa_jiguan: str | None = Field(None, description="印发机关（版记）")
    yinfa_riqi: _dt.date | None = Field(None, description="印发日期（版记，默认同成文日期）")
    biaoti_xuhao: bool = Field(True, description="正文各级标题自动加序号 一、 （一） 1.（已有序号的不再加）")
    linghao: str | None = Field(None, description="令号（命令格式），如 “第12号”：标志下空二行居中")
    zhiwu: str | None = Field(None, description="签发人职务（命令格式）：签名章左空二字；签名章上的姓名取 qianfaren")
    chuxi: list[Text] = Field(default_factory=list, description="出席人员（纪要格式）：单位、姓名，以顿号分隔")
    qingjia: list[Text] = Field(default_factory=list, description="请假人员（纪要格式）")
    liexi: list[Text] = Field(default_factory=list, description="列席人员（纪要格式）")
    shuangmian: bool = Field(True, description=(
        "双面印刷：版记置于偶数页（封四），需要时在其前插入空白页，空白页和版记页均不编页码（7.4、7.5）；"
        "单面印刷设为 false"))

    @field_validator("biaozhi")
    @classmethod
    def _biaozhi(cls, v):
        v = [x.strip() for x in v]
        if any(not x for x in v):
            raise ValueError("发文机关标志 names must not be empty")
        if any(len(x) > 24 for x in v):
            raise ValueError("发文机关标志 is at most 24 characters a name")
        return v

    @field_validator("fenhao")
    @classmethod
    def _fenhao(cls, v):
        if v is None:
            return v
        v = v.strip()
        if not re.fullmatch(r"\d{1,6}", v):
            raise ValueError("份号 is 1 to 6 Arabic digits, e.g. 000123")
        return v.zfill(6)

    @field_validator("zihao")
    @classmethod
    def _zihao(cls, v):
        if v is None:
            return v
        v = v.strip()
        if _WRONG_BRACKETS.search(v):
            raise ValueError("发文字号: put the year in 六角括号 〔〕, e.g. 国办发〔2026〕12号 (not [] 【】 or （）)")
        m = _ZIHAO.fullmatch(v)
        if m is None:
            if re.search(r"〔\d{4}〕0\d*号$", v):
                raise ValueError("发文字号: 序号不编虚位 (12号, not 012号)")
            if "第" in v:
                raise ValueError("发文字号: 序号不加“第”字 (12号, not 第12号)")
            raise ValueError("发文字号 is 机关代字〔年份〕序号号, e.g. 国办发〔2026〕12号")
        return v

    @field_validator("qianfaren")
    @classmethod
    def _names(cls, v):
        if any(not n.strip() for n in v):
            raise ValueError("签发人 names must not be empty")
        return [n.strip() for n in v]

    @model_validator(mode="after")
    def _together(self):
        if self.baomi_qixian and not self.miji:
            raise ValueError("baomi_qixian (保密期限) needs miji (密级)")
        if self.yinfa_riqi and not self.yinfa_jiguan:
            raise ValueError("yinfa_riqi (印发日期) needs yinfa_jiguan (印发机关)")
        last = self.biaozhi[-1]
        if self.format == "mingling" and not last.endswith("令"):
            raise ValueError("命令（令）格式: 发文机关标志 is the organ's name and 命令 or 令, "
                             "e.g. 青川市人民政府令 (10.2)")
        if self.format == "jiyao" and not last.endswith("纪要"):
            raise ValueError("纪要格式: 发文机关标志 ends in 纪要, e.g. 青川市人民政府常务会议纪要 (10.3)")
        if self.format != "jiyao" and (self.chuxi or self.qingjia or self.liexi):
            raise ValueError("chuxi/qingjia/liexi (出席、请假、列席) belong to 纪要格式 (format: jiyao)")
        if self.format != "mingling" and (self.linghao or self.zhiwu):
            raise ValueError("linghao/zhiwu (令号, 签发人职务) belong to 命令格式 (format: mingling)")
        if self.format == "mingling" and self.zhiwu and not self.qianfaren:
            raise ValueError("zhiwu (签发人职务) needs qianfaren (the name on the 签名章)")
        if self.format in ("mingling", "jiyao") and len(self.biaozhi) > 1:
            raise ValueError("联合行文 (several 发文机关) is for 文件格式 and 信函格式")
        return self
