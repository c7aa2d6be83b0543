"""Tests for the licence-number validators (SPEC §3 number formats).

Each module gets: known-valid numbers (SPEC's examples, real ones read off the
sample images, and constructed ones) with the compact form expected, known-invalid
ones with the specific exception, full-width input, and SEARCH on a sentence.
The junk-input test in test_validators.py covers every module through
``validators.IDENTIFIER_MODULES``.
"""

from __future__ import annotations

import datetime
import doctest

import pytest
from stdnum import numdb
from stdnum.exceptions import InvalidComponent, InvalidFormat, InvalidLength, ValidationError

import validators
from validators import (
    cosmetics_filing_number,
    cosmetics_production_number,
    food_business_number,
    food_production_number,
    health_food_number,
    infant_formula_number,
    medical_device_business_number,
    medical_device_registration_number,
    pesticide_business_number,
    pesticide_registration_number,
    publication_licence_number,
    tobacco_licence_number,
    trademark_class,
    trademark_number,
    veterinary_drug_approval_number,
    veterinary_drug_business_number,
)
from validators._licence import ABBREVIATIONS, PROVINCES

NEXT_YEAR_PLUS_ONE = datetime.date.today().year + 2  # always "in the future"

# (module, as read, expected compact form)
VALID = [
    # 食品经营许可证: two real numbers (samples/real food_operation_licence_05 and _01), constructed ones
    (food_business_number, "JY14409020234560", "JY14409020234560"),
    (food_business_number, "JY24419120907527", "JY24419120907527"),
    (food_business_number, "JY13301060012345", "JY13301060012345"),
    (food_business_number, "JY35010200000018", "JY35010200000018"),  # 单位食堂, 重庆
    (food_business_number, "jy 1440 9020 2345 60", "JY14409020234560"),
    (food_business_number, "ＪＹ１４４０９０２０２３４５６０", "JY14409020234560"),
    # 食品生产许可证
    (food_production_number, "SC10633010600123", "SC10633010600123"),
    (food_production_number, "SC20144030700012", "SC20144030700012"),  # food additive
    (food_production_number, "SC11337028100254", "SC11337028100254"),
    (food_production_number, "ＳＣ１０６３３０１０６００１２３", "SC10633010600123"),
    # 化妆品生产许可证: 粤妆20160768 is real (samples/real cosmetics_production_licence_01)
    (cosmetics_production_number, "粤妆20160768", "粤妆20160768"),
    (cosmetics_production_number, "浙妆20170012", "浙妆20170012"),
    (cosmetics_production_number, "黔妆20180003", "黔妆20180003"),
    (cosmetics_production_number, "沪 妆 2021 0101", "沪妆20210101"),
    (cosmetics_production_number, "粤妆２０１６０７６８", "粤妆20160768"),
    # 化妆品备案 / 注册 (SPEC's four examples first)
    (cosmetics_filing_number, "国妆网备进字(沪)2021001234", "国妆网备进字(沪)2021001234"),
    (cosmetics_filing_number, "粤G妆网备字2020012345", "粤G妆网备字2020012345"),
    (cosmetics_filing_number, "国妆特字G20190123", "国妆特字G20190123"),
    (cosmetics_filing_number, "国妆特注字G20230456", "国妆特注字G20230456"),
    (cosmetics_filing_number, "国妆特进字J20190123", "国妆特进字J20190123"),
    (cosmetics_filing_number, "国妆备进字J20160123", "国妆备进字J20160123"),
    (cosmetics_filing_number, "国妆网备进字（沪）2021001234", "国妆网备进字(沪)2021001234"),
    (cosmetics_filing_number, "国妆网备进字【京】2019000012", "国妆网备进字(京)2019000012"),
    (cosmetics_filing_number, "浙ｇ妆网备字 2019000123", "浙G妆网备字2019000123"),
    # 医疗器械经营许可 / 备案 (号 kept)
    (medical_device_business_number, "浙杭食药监械经营许20150012号", "浙杭食药监械经营许20150012号"),
    (medical_device_business_number, "浙杭食药监械经营备20150031号", "浙杭食药监械经营备20150031号"),
    (medical_device_business_number, "苏苏药监械经营许20220123号", "苏苏药监械经营许20220123号"),
    (medical_device_business_number, "沪浦市监械经营备20190456号", "沪浦市监械经营备20190456号"),
    (medical_device_business_number, "京食药监械经营许20140001号", "京食药监械经营许20140001号"),
    (medical_device_business_number, "浙杭食药监械经营许 2015 0012 号", "浙杭食药监械经营许20150012号"),
    (medical_device_business_number, "浙杭食药监械经营许20150012", "浙杭食药监械经营许20150012"),
    # 医疗器械注册证 / 备案
    (medical_device_registration_number, "国械注准20193140123", "国械注准20193140123"),
    (medical_device_registration_number, "国械注准20153400123", "国械注准20153400123"),  # IVD, category 40
    (medical_device_registration_number, "国械注进20172130456", "国械注进20172130456"),
    (medical_device_registration_number, "国械注许20183220012", "国械注许20183220012"),
    (medical_device_registration_number, "粤械注准20192140123", "粤械注准20192140123"),
    (medical_device_registration_number, "滇械注准20202060001", "滇械注准20202060001"),
    (medical_device_registration_number, "粤穗械备20150001号", "粤穗械备20150001号"),
    (medical_device_registration_number, "京械备20160012号", "京械备20160012号"),
    (medical_device_registration_number, "国械备20150001号", "国械备20150001号"),
    (medical_device_registration_number, "粤穗械备20150001", "粤穗械备20150001"),
    (medical_device_registration_number, "国械注准 ２０１９ ３ １４ ０１２３", "国械注准20193140123"),
    # 烟草专卖零售许可证
    (tobacco_licence_number, "440305100123", "440305100123"),
    (tobacco_licence_number, "110101000001", "110101000001"),
    (tobacco_licence_number, "６５０１０２ １２３４５６", "650102123456"),
    # 出版物经营许可证
    (publication_licence_number, "新出发京零字第东110123号", "新出发京零字第东110123号"),
    (publication_licence_number, "新出发沪批字第1234号", "新出发沪批字第1234号"),
    (publication_licence_number, "新出发粤批字第4403001号", "新出发粤批字第4403001号"),
    (publication_licence_number, "新出发浙字第0123号", "新出发浙字第0123号"),
    (publication_licence_number, "新出发京零字第朝2016-0123号", "新出发京零字第朝2016-0123号"),
    (publication_licence_number, "新出发 沪批字 第 １２３４ 号", "新出发沪批字第1234号"),
    # 商标注册号 (第 and 号 removed)
    (trademark_number, "12345678", "12345678"),
    (trademark_number, "第12345678号", "12345678"),
    (trademark_number, "第 1234567 号", "1234567"),
    (trademark_number, "123", "123"),
    (trademark_number, "第３５６７８９１号", "3567891"),
    # 尼斯分类
    (trademark_class, "35", "35"),
    (trademark_class, "第35类", "35"),
    (trademark_class, "第3类", "3"),
    (trademark_class, "03", "3"),
    (trademark_class, "1", "1"),
    (trademark_class, "第 ４５ 类", "45"),
    # 保健食品
    (health_food_number, "国食健注G20160123", "国食健注G20160123"),
    (health_food_number, "国食健注J20170045", "国食健注J20170045"),
    (health_food_number, "食健备G201733000123", "食健备G201733000123"),
    (health_food_number, "食健备J201800000456", "食健备J201800000456"),
    (health_food_number, "国食健字G20100123", "国食健字G20100123"),
    (health_food_number, "国食健字J20130012", "国食健字J20130012"),
    (health_food_number, "卫食健字(1996)第0123号", "卫食健字(1996)第0123号"),
    (health_food_number, "卫食健进字（2002）第045号", "卫食健进字(2002)第045号"),
    (health_food_number, "国食健注Ｇ２０１６０１２３", "国食健注G20160123"),
    # 婴幼儿配方乳粉
    (infant_formula_number, "国食注字YP20180001", "国食注字YP20180001"),
    (infant_formula_number, "国食注字YP20230123", "国食注字YP20230123"),
    (infant_formula_number, "国食注字ｙｐ２０１８０００１", "国食注字YP20180001"),
    # 农药登记证
    (pesticide_registration_number, "PD20080123", "PD20080123"),
    (pesticide_registration_number, "WP20150012", "WP20150012"),
    (pesticide_registration_number, "LS20120345", "LS20120345"),
    (pesticide_registration_number, "WL20110001", "WL20110001"),
    (pesticide_registration_number, "pd 2008 0123", "PD20080123"),
    (pesticide_registration_number, "ＰＤ２００８０１２３", "PD20080123"),
    # 农药经营许可证
    (pesticide_business_number, "农药经许（浙）33010120180012", "农药经许(浙)33010120180012"),
    (pesticide_business_number, "农药经许(粤)44010620190001", "农药经许(粤)44010620190001"),
    (pesticide_business_number, "农药经许(黔)52010220200123", "农药经许(黔)52010220200123"),
    (pesticide_business_number, "农药经许浙33010120180012", "农药经许浙33010120180012"),
    (pesticide_business_number, "农药经许 ( 浙 ) ３３０１０１２０１８００１２", "农药经许(浙)33010120180012"),
    # 兽药产品批准文号
    (veterinary_drug_approval_number, "兽药字(2019)110012345", "兽药字(2019)110012345"),
    (veterinary_drug_approval_number, "兽药字（2019）110012345", "兽药字(2019)110012345"),
    (veterinary_drug_approval_number, "兽药生字(2018)150011234", "兽药生字(2018)150011234"),
    (veterinary_drug_approval_number, "兽药添字〔2015〕010020001", "兽药添字(2015)010020001"),
    # 兽药经营许可证 (号 kept)
    (veterinary_drug_business_number, "(2020)兽药经营证字110012345号", "(2020)兽药经营证字110012345号"),
    (veterinary_drug_business_number, "（2020）兽药经营证字110012345号", "(2020)兽药经营证字110012345号"),
    (veterinary_drug_business_number, "(2018)兽药经营证字130102001号", "(2018)兽药经营证字130102001号"),
    (veterinary_drug_business_number, "(2016)兽药经营证字330100001234号", "(2016)兽药经营证字330100001234号"),
    (veterinary_drug_business_number, "(2020)兽药经营证字110012345", "(2020)兽药经营证字110012345"),
]

# (module, number, exception)
INVALID = [
    (food_business_number, "JY1440902023456", InvalidLength),
    (food_business_number, "JY144090202345601", InvalidLength),
    (food_business_number, "JY44409020234560", InvalidComponent),  # 主体业态 4
    (food_business_number, "JY04409020234560", InvalidComponent),  # 主体业态 0
    (food_business_number, "JY19909020234560", InvalidComponent),  # province 99
    (food_business_number, "JY17109020234560", InvalidComponent),  # 71 Taiwan
    (food_business_number, "SC14409020234560", InvalidFormat),
    (food_business_number, "JY1440902023456O", InvalidFormat),  # letter O
    (food_business_number, "14409020234560", InvalidFormat),
    (food_business_number, "JY", InvalidFormat),
    (food_production_number, "SC30633010600123", InvalidComponent),  # category must start 1 or 2
    (food_production_number, "SC10699010600123", InvalidComponent),  # province 99
    (food_production_number, "SC1063301060012", InvalidLength),
    (food_production_number, "SC1063301060012A", InvalidFormat),
    (food_production_number, "QS330106010123", InvalidFormat),  # old QS number
    (cosmetics_production_number, "粤妆2016076", InvalidLength),
    (cosmetics_production_number, "粤妆201607689", InvalidLength),
    (cosmetics_production_number, "东妆20160768", InvalidComponent),  # not a province
    (cosmetics_production_number, "粤妆20090768", InvalidComponent),  # before 2015
    (cosmetics_production_number, f"粤妆{NEXT_YEAR_PLUS_ONE}0001", InvalidComponent),
    (cosmetics_production_number, "粤20160768", InvalidFormat),
    (cosmetics_production_number, "粤G妆20160768", InvalidFormat),
    (cosmetics_production_number, "粤妆2016O768", InvalidFormat),
    (cosmetics_production_number, "XK16-108 0123", InvalidFormat),
    (cosmetics_filing_number, "粤J妆网备字2020012345", InvalidComponent),  # domestic filing is G
    (cosmetics_filing_number, "国妆特进字G20190123", InvalidComponent),  # import is J
    (cosmetics_filing_number, "国妆特字J20190123", InvalidComponent),
    (cosmetics_filing_number, "国妆网备进字(东)2021001234", InvalidComponent),
    (cosmetics_filing_number, "国妆网备进字(沪)2012001234", InvalidComponent),  # before 2014
    (cosmetics_filing_number, f"国妆特字G{NEXT_YEAR_PLUS_ONE}0123", InvalidComponent),
    (cosmetics_filing_number, "国妆特字G2019012", InvalidLength),
    (cosmetics_filing_number, "粤G妆网备字202001234", InvalidLength),
    (cosmetics_filing_number, "国妆网备进字(沪)20210012345", InvalidLength),
    (cosmetics_filing_number, "国妆特字20190123", InvalidFormat),  # no G
    (cosmetics_filing_number, "国妆特字G2019O123", InvalidFormat),
    (cosmetics_filing_number, "卫妆特字(2005)第0123号", InvalidFormat),
    (cosmetics_filing_number, "国妆网备字2020012345", InvalidFormat),
    (cosmetics_filing_number, "国妆网备进字(上海)2021001234", InvalidFormat),
    (medical_device_business_number, "浙杭食药监械经营许2015012号", InvalidLength),
    (medical_device_business_number, "浙杭食药监械经营许201500123号", InvalidLength),
    (medical_device_business_number, "东杭食药监械经营许20150012号", InvalidComponent),
    (medical_device_business_number, "浙杭食药监械经营许20130012号", InvalidComponent),  # before 2014
    (medical_device_business_number, "浙杭食药监械经营证20150012号", InvalidFormat),
    (medical_device_business_number, "浙杭州市食药监械经营许20150012号", InvalidFormat),
    (medical_device_business_number, "浙杭食药监械经营许2015OO12号", InvalidFormat),
    (medical_device_business_number, "食药监械经营许20150012号", InvalidFormat),
    (medical_device_business_number, "浙杭食药监械经营许20150012号码", InvalidFormat),
    (medical_device_registration_number, "国械注准2019314012", InvalidLength),
    (medical_device_registration_number, "国械注准201931401234", InvalidLength),
    (medical_device_registration_number, "国械注准20192140123", InvalidComponent),  # 国械注准 is class 3
    (medical_device_registration_number, "粤械注准20193140123", InvalidComponent),  # province: class 2
    (medical_device_registration_number, "国械注进20191140123", InvalidComponent),  # class 1 is filed
    (medical_device_registration_number, "国械注准20133140123", InvalidComponent),  # before 2014
    (medical_device_registration_number, "东械注准20192140123", InvalidComponent),
    (medical_device_registration_number, "粤械注进20192140123", InvalidFormat),
    (medical_device_registration_number, "国械注准2019314O123", InvalidFormat),
    (medical_device_registration_number, "国食药监械(准)字2012第3401234号", InvalidFormat),
    (medical_device_registration_number, "粤穗械备2015001号", InvalidLength),
    (medical_device_registration_number, "粤穗深械备20150001号", InvalidFormat),
    (medical_device_registration_number, "东穗械备20150001号", InvalidComponent),
    (medical_device_registration_number, f"国械备{NEXT_YEAR_PLUS_ONE}0001号", InvalidComponent),
    (tobacco_licence_number, "44030510012", InvalidLength),
    (tobacco_licence_number, "4403051001234", InvalidLength),
    (tobacco_licence_number, "990305100123", InvalidComponent),
    (tobacco_licence_number, "710305100123", InvalidComponent),
    (tobacco_licence_number, "44030510012X", InvalidFormat),
    (publication_licence_number, "新出发京零字第东11号", InvalidFormat),  # fewer than 3 digits
    (publication_licence_number, "新出发京零字东110123号", InvalidFormat),  # no 字第
    (publication_licence_number, "新出发京零字第东110123", InvalidFormat),  # no 号
    (publication_licence_number, "新出网证(京)字123号", InvalidFormat),
    (publication_licence_number, "新出发A字第1234号", InvalidFormat),
    (publication_licence_number, "新出发东城字第1234号", InvalidFormat),  # not a province
    (publication_licence_number, "新出发京零字第东1101!23号", InvalidFormat),
    (publication_licence_number, "新出发字第1234号", InvalidFormat),
    (trademark_number, "123456789", InvalidLength),
    (trademark_number, "G1004595", InvalidFormat),  # Madrid: to review
    (trademark_number, "46219021A", InvalidFormat),  # letter suffix: to review
    (trademark_number, "012345", InvalidFormat),
    (trademark_number, "第号", InvalidFormat),
    (trademark_class, "46", InvalidComponent),
    (trademark_class, "0", InvalidComponent),
    (trademark_class, "00", InvalidComponent),
    (trademark_class, "第100类", InvalidLength),
    (trademark_class, "三十五", InvalidFormat),
    (trademark_class, "35A", InvalidFormat),
    (health_food_number, "国食健注G2016012", InvalidLength),
    (health_food_number, "食健备G20173300012", InvalidLength),
    (health_food_number, "卫食健字(1996)第12345号", InvalidLength),
    (health_food_number, "国食健注X20160123", InvalidComponent),
    (health_food_number, "食健备G201799000123", InvalidComponent),  # province 99
    (health_food_number, "食健备J201733000123", InvalidComponent),  # import filing carries 00
    (health_food_number, "国食健注G20150123", InvalidComponent),  # before 2016
    (health_food_number, "卫食健字(1989)第0123号", InvalidComponent),
    (health_food_number, "国食健注20160123", InvalidFormat),
    (health_food_number, "国食健注G2016O123", InvalidFormat),
    (health_food_number, "国食健准G20160123", InvalidFormat),
    (health_food_number, "卫食健字1996第0123号", InvalidFormat),
    (infant_formula_number, "国食注字YP2018001", InvalidLength),
    (infant_formula_number, "国食注字YP20150001", InvalidComponent),
    (infant_formula_number, f"国食注字YP{NEXT_YEAR_PLUS_ONE}0001", InvalidComponent),
    (infant_formula_number, "国食注字TY20180001", InvalidFormat),  # 特医食品: another registration
    (infant_formula_number, "国食注字YP2018000A", InvalidFormat),
    (pesticide_registration_number, "PD200801234", InvalidLength),
    (pesticide_registration_number, "PD18880123", InvalidComponent),
    (pesticide_registration_number, f"PD{NEXT_YEAR_PLUS_ONE}0123", InvalidComponent),
    (pesticide_registration_number, "PD85150-43", InvalidFormat),  # old form: to review
    (pesticide_registration_number, "PD84125", InvalidFormat),
    (pesticide_registration_number, "PDN12-93", InvalidFormat),
    (pesticide_registration_number, "XX20080123", InvalidFormat),
    (pesticide_registration_number, "20080123", InvalidFormat),
    (pesticide_business_number, "农药经许(浙)44010620190001", InvalidComponent),  # 44 is 广东, not 浙
    (pesticide_business_number, "农药经许(东)33010120180012", InvalidComponent),
    (pesticide_business_number, "农药经许(浙)99010120180012", InvalidComponent),
    (pesticide_business_number, "农药经许(浙)33010120160012", InvalidComponent),  # before 2017
    (pesticide_business_number, "农药经许(浙)3301012018001", InvalidLength),
    (pesticide_business_number, "农药经许(浙)3301012018001X", InvalidFormat),
    (pesticide_business_number, "农药经许(浙江)33010120180012", InvalidFormat),
    (pesticide_business_number, "农药经许33010120180012", InvalidFormat),
    (pesticide_business_number, "农药经营许可证33010120180012", InvalidFormat),
    (veterinary_drug_approval_number, "兽药字(2019)11001234", InvalidLength),
    (veterinary_drug_approval_number, "兽药字(2019)1100123456", InvalidLength),
    (veterinary_drug_approval_number, "兽药字(1989)110012345", InvalidComponent),
    (veterinary_drug_approval_number, f"兽药字({NEXT_YEAR_PLUS_ONE})110012345", InvalidComponent),
    (veterinary_drug_approval_number, "兽药字2019110012345", InvalidFormat),
    (veterinary_drug_approval_number, "兽药字(19)110012345", InvalidFormat),
    (veterinary_drug_approval_number, "兽药准字(2019)110012345", InvalidFormat),
    (veterinary_drug_approval_number, "兽药字(2019)11001234X", InvalidFormat),
    (veterinary_drug_business_number, "(2020)兽药经营证字12345号", InvalidLength),
    (veterinary_drug_business_number, "(2020)兽药经营证字1234567890123号", InvalidLength),
    (veterinary_drug_business_number, "(1989)兽药经营证字110012345号", InvalidComponent),
    (veterinary_drug_business_number, "兽药经营证字110012345号", InvalidFormat),
    (veterinary_drug_business_number, "(2020)兽药经营许可证110012345号", InvalidFormat),
    (veterinary_drug_business_number, "(2020)兽药经营证字11001234S号", InvalidFormat),
]

# (module, running text, expected compact form of the SEARCH match)
SEARCHES = [
    (food_business_number, "许可证编号：JY13301060012345 有效期至2026年05月31日", "JY13301060012345"),
    (food_business_number, "许可证编号ＪＹ１４４０９０２０２３４５６０，日常监督管理机构", "JY14409020234560"),
    (food_production_number, "许可证编号：SC10633010600123 有效期至2026年05月31日", "SC10633010600123"),
    (cosmetics_production_number, "许可证编号：粤妆20160768 有效期至二〇二一年九月十六日", "粤妆20160768"),
    (cosmetics_filing_number, "备案编号：国妆网备进字（沪）2021001234 产品名称：某某面霜", "国妆网备进字(沪)2021001234"),
    (cosmetics_filing_number, "备案编号：粤G妆网备字2020012345 备案人：广州某某", "粤G妆网备字2020012345"),
    (cosmetics_filing_number, "批准文号 国妆特进字 J20190123 有效期", "国妆特进字J20190123"),
    (cosmetics_filing_number, "注册证编号：国妆特注字G20230456 产品名称", "国妆特注字G20230456"),
    (medical_device_business_number, "许可证编号：浙杭食药监械经营许20150012号 法定代表人：张三",
     "浙杭食药监械经营许20150012号"),
    (medical_device_business_number, "备案编号: 浙杭食药监械经营备 20150031 号 企业名称", "浙杭食药监械经营备20150031号"),
    (medical_device_registration_number, "注册证编号：国械注准20193140123 产品名称：医用口罩", "国械注准20193140123"),
    (medical_device_registration_number, "备案号：粤穗械备20150001号 备案人：广州某某", "粤穗械备20150001号"),
    (medical_device_registration_number, "注册证编号 粤械注准20192140123，注册人", "粤械注准20192140123"),
    (tobacco_licence_number, "许可证号：440305100123 负责人：张三", "440305100123"),
    (publication_licence_number, "许可证编号：新出发京零字第东110123号 有效期至2027年", "新出发京零字第东110123号"),
    (publication_licence_number, "编号 新出发 沪批字 第 1234 号 发证机关", "新出发沪批字第1234号"),
    (trademark_number, "商标注册证 第12345678号 注册人：杭州某某", "12345678"),
    (trademark_number, "注册号：7654321 核定使用商品第3类", "7654321"),
    (trademark_class, "核定使用商品/服务项目 第35类：广告；", "35"),
    (trademark_class, "国际分类：3 注册号 7654321", "3"),
    (health_food_number, "批准文号：国食健注G20160123 保健功能：增强免疫力", "国食健注G20160123"),
    (health_food_number, "备案号：食健备G201733000123 备案人", "食健备G201733000123"),
    (health_food_number, "批准文号：卫食健字（1996）第0123号", "卫食健字(1996)第0123号"),
    (infant_formula_number, "注册号：国食注字YP20180001，产品名称：某某婴儿配方奶粉", "国食注字YP20180001"),
    (pesticide_registration_number, "农药登记证号：PD20080123 农药名称：草甘膦", "PD20080123"),
    (pesticide_business_number, "许可证编号：农药经许（浙）33010120180012 经营范围：农药", "农药经许(浙)33010120180012"),
    (veterinary_drug_approval_number, "批准文号：兽药字（2019）110012345 有效期至2024年", "兽药字(2019)110012345"),
    (veterinary_drug_business_number, "证号：（2020）兽药经营证字110012345号 经营范围", "(2020)兽药经营证字110012345号"),
]

KINDS = [
    (cosmetics_filing_number, "粤G妆网备字2020012345", "domestic_filing"),
    (cosmetics_filing_number, "国妆网备进字(沪)2021001234", "import_filing"),
    (cosmetics_filing_number, "国妆备进字J20160123", "import_filing"),
    (cosmetics_filing_number, "国妆特字G20190123", "special_registration"),
    (cosmetics_filing_number, "国妆特注字G20230456", "special_registration"),
    (cosmetics_filing_number, "国妆特进字J20190123", "import_special_registration"),
    (medical_device_business_number, "浙杭食药监械经营许20150012号", "licence"),
    (medical_device_business_number, "浙杭食药监械经营备20150031号", "filing"),
    (medical_device_registration_number, "国械注准20193140123", "registration"),
    (medical_device_registration_number, "粤械注准20192140123", "registration"),
    (medical_device_registration_number, "粤穗械备20150001号", "filing"),
    (medical_device_registration_number, "国械备20150001号", "filing"),
    (health_food_number, "国食健注G20160123", "registration"),
    (health_food_number, "食健备J201800000456", "filing"),
    (health_food_number, "国食健字G20100123", "legacy_registration"),
    (health_food_number, "卫食健字(1996)第0123号", "moh_approval"),
    (veterinary_drug_approval_number, "兽药字(2019)110012345", "drug"),
    (veterinary_drug_approval_number, "兽药生字(2018)150011234", "biological"),
    (veterinary_drug_approval_number, "兽药添字(2015)010020001", "feed_additive"),
]


def _id(value):
    return value.__name__.rsplit(".", 1)[-1] if hasattr(value, "__name__") else None


# ---------------------------------------------------------------- generic


def test_every_licence_module_is_in_identifier_modules():
    assert set(validators.LICENCE_NUMBER_MODULES) <= set(validators.IDENTIFIER_MODULES)
    tested = {m for m, *_ in VALID} | {m for m, *_ in INVALID} | {m for m, *_ in SEARCHES}
    assert tested == set(validators.LICENCE_NUMBER_MODULES)


@pytest.mark.parametrize("module", validators.LICENCE_NUMBER_MODULES, ids=_id)
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize(("module", "number", "expected"), VALID, ids=lambda v: _id(v) or str(v))
def test_valid(module, number, expected):
    assert module.compact(number) == expected
    assert module.validate(number) == expected
    assert module.validate(expected) == expected  # idempotent
    assert module.is_valid(number) is True
    assert module.is_valid(module.format(number)) is True


@pytest.mark.parametrize(("module", "number", "exc"), INVALID, ids=lambda v: _id(v) or str(v))
def test_invalid(module, number, exc):
    with pytest.raises(exc) as info:
        module.validate(number)
    assert type(info.value) is exc  # the specific error, not a subclass of it
    message = str(info.value)
    assert len(message) > 15 and "None" not in message  # a sentence a reviewer can read
    assert module.is_valid(number) is False


@pytest.mark.parametrize(("module", "text", "expected"), SEARCHES, ids=lambda v: _id(v) or str(v)[:12])
def test_search_finds_the_number_in_running_text(module, text, expected):
    m = module.SEARCH.search(text)
    assert m is not None, text
    assert m.group(0) == m["number"]  # extractors take group(0) and its span as the value and its box
    assert module.validate(m.group(0)) == expected


@pytest.mark.parametrize("module", validators.LICENCE_NUMBER_MODULES, ids=_id)
def test_search_finds_nothing_in_unrelated_text(module):
    text = (
        "营业执照 统一社会信用代码 91330106MA2H3B4C5L 名称 杭州鲜果时光食品有限公司 "
        "成立日期 2018年03月15日 营业期限 2018年03月15日至长期 电话 0571-88881234 13800138000"
    )
    assert module.SEARCH.search(text) is None


@pytest.mark.parametrize(("module", "number", "expected"), KINDS, ids=lambda v: _id(v) or str(v))
def test_kind(module, number, expected):
    assert module.kind(number) == expected


@pytest.mark.parametrize("module", [m for m in validators.LICENCE_NUMBER_MODULES if hasattr(m, "kind")], ids=_id)
def test_kind_raises_for_invalid(module):
    with pytest.raises(ValidationError):
        module.kind("not a number")


# ---------------------------------------------------------------- shared data


def test_province_codes_match_stdnum_gb2260():
    stdnum_provinces = {
        code for code in (f"{i:02d}" for i in range(100))
        if any("province" in props for _part, props in numdb.get("cn/loc").info(code))
    }
    assert set(PROVINCES) == stdnum_provinces - {"71", "81", "82"}  # mainland only
    assert set(ABBREVIATIONS.values()) == set(PROVINCES)  # every province has an abbreviation


# ---------------------------------------------------------------- module specifics


def test_food_business_messages_and_helpers():
    with pytest.raises(InvalidLength, match="JY number has 13 digits after JY, expected 14"):
        food_business_number.validate("JY1440902023456")
    assert food_business_number.get_business_type("JY14409020234560") == "food_sales"
    assert food_business_number.get_business_type("JY24419120907527") == "catering"
    assert food_business_number.get_business_type("JY35010200000018") == "canteen"
    assert food_business_number.get_province("JY14409020234560") == "广东"


def test_food_production_helpers():
    assert food_production_number.is_additive("SC20144030700012")
    assert not food_production_number.is_additive("SC10633010600123")
    assert food_production_number.get_province("SC10633010600123") == "浙江"


def test_cosmetics_production_province():
    assert cosmetics_production_number.get_province("粤妆20160768") == "广东"
    assert cosmetics_production_number.get_province("黔妆20180003") == "贵州"


def test_format_adds_hao_where_it_is_part_of_the_number():
    assert medical_device_business_number.format("浙杭食药监械经营许20150012") == "浙杭食药监械经营许20150012号"
    assert medical_device_business_number.format("浙杭食药监械经营许20150012号") == "浙杭食药监械经营许20150012号"
    assert medical_device_registration_number.format("粤穗械备20150001") == "粤穗械备20150001号"
    assert medical_device_registration_number.format("国械注准20193140123") == "国械注准20193140123"
    assert veterinary_drug_business_number.format("（2020）兽药经营证字110012345") == "(2020)兽药经营证字110012345号"


def test_medical_device_management_class():
    assert medical_device_registration_number.get_management_class("国械注准20193140123") == 3
    assert medical_device_registration_number.get_management_class("粤械注准20192140123") == 2
    assert medical_device_registration_number.get_management_class("国械注进20172130456") == 2
    assert medical_device_registration_number.get_management_class("粤穗械备20150001号") == 1


def test_medical_device_class_message_names_the_rule():
    with pytest.raises(InvalidComponent, match="class 2 .* does not fit 国械注准, which is issued for class 3"):
        medical_device_registration_number.validate("国械注准20192140123")


def test_trademark_class_goods_or_services():
    assert trademark_class.is_goods("第3类")
    assert trademark_class.is_goods("34")
    assert not trademark_class.is_goods("第35类")
    assert not trademark_class.is_goods("45")


def test_health_food_import():
    assert health_food_number.is_import("国食健注J20170045")
    assert health_food_number.is_import("卫食健进字(2002)第045号")
    assert not health_food_number.is_import("食健备G201733000123")
    assert not health_food_number.is_import("卫食健字(1996)第0123号")


def test_pesticide_registration_keeps_hyphen_of_old_numbers():
    assert pesticide_registration_number.compact("PD 85150－43") == "PD85150-43"
    m = pesticide_registration_number.SEARCH.search("登记证号：PD85150-43 草甘膦")
    assert m is not None and m["number"] == "PD85150-43"
    with pytest.raises(InvalidFormat, match="checked in the register"):
        pesticide_registration_number.validate(m["number"])
    assert pesticide_registration_number.get_type("WP20150012") == "WP"


def test_pesticide_business_province_mismatch_message():
    with pytest.raises(InvalidComponent, match="44010620190001|440106"):
        pesticide_business_number.validate("农药经许(浙)44010620190001")
    assert pesticide_business_number.get_province("农药经许(浙)33010120180012") == "浙江"


def test_publication_region():
    assert publication_licence_number.get_region("新出发京零字第东110123号") == "京零"
    assert publication_licence_number.get_region("新出发沪批字第1234号") == "沪批"


def test_tobacco_province():
    assert tobacco_licence_number.get_province("440305100123") == "广东"


def test_search_does_not_glue_a_longer_digit_run():
    # 16 digits after JY: the candidate is found whole, and validation reports the length
    m = food_business_number.SEARCH.search("编号JY1440902023456012 至")
    assert m is not None
    with pytest.raises(InvalidLength):
        food_business_number.validate(m["number"])
