/** Sample licence data and render inputs shared by the licence tests. */
import { deflateSync, crc32 } from 'node:zlib';
import type { LicenceRenderInput } from '../src/licences/render.js';
import { LicenceTypeRegistry } from '../src/licences/registry.js';
import { creditCodeCheckChar } from '../src/standards/credit-code.js';
import { buildLicenceId } from '../src/standards/licence-id.js';
import { residentIdCheckChar } from '../src/standards/resident-id.js';
import { formatChineseDate, parseIsoDate } from '../src/standards/date.js';

export const registry = LicenceTypeRegistry.load();
export const PUBLIC_BASE_URL = 'https://licences.example.gov.cn';

const withCheck = (body17: string): string => body17 + creditCodeCheckChar(body17);

/** A small RGB PNG (a grey head-and-shoulders silhouette on light blue), made without any image library. */
export function portraitPng(width = 90, height = 120): Buffer {
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) {
      const head = (x - width / 2) ** 2 / (width * 0.2) ** 2 + (y - height * 0.38) ** 2 / (height * 0.2) ** 2 <= 1;
      const body = y > height * 0.62 && Math.abs(x - width / 2) < width * 0.4 - (height - y) * 0.2;
      const [r, g, b] = head || body ? [90, 90, 95] : [200, 225, 245];
      row.set([r, g, b], 1 + x * 3);
    }
    rows.push(row);
  }
  const chunk = (type: string, data: Buffer): Buffer => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const residentBody = '44030519900307123';

export const SAMPLE_DATA: Record<string, Record<string, string>> = {
  'business-licence': {
    unifiedSocialCreditCode: '91110000802100433B',
    name: '北京星河数字科技有限公司',
    entityType: '有限责任公司（自然人投资或控股）',
    legalRepresentative: '王建国',
    registeredCapital: '壹仟万元整',
    establishedOn: '2015-03-18',
    businessTermTo: '长期',
    address: '北京市海淀区中关村大街27号1101室',
    businessScope:
      '一般项目：技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；软件开发；信息系统集成服务；数据处理和存储支持服务；' +
      '人工智能应用软件开发；计算机系统服务；货物进出口；技术进出口。（除依法须经批准的项目外，凭营业执照依法自主开展经营活动）' +
      '许可项目：第二类增值电信业务。（依法须经批准的项目，经相关部门批准后方可开展经营活动，具体经营项目以相关部门批准文件或许可证件为准）',
  },
  'food-business-licence': {
    operator: '上海味香园餐饮管理有限公司',
    unifiedSocialCreditCode: withCheck('91310104MA1FR2K3X'),
    legalRepresentative: '李秀英',
    address: '上海市徐汇区漕溪北路88号1层101室',
    mainBusiness: '餐饮服务经营者',
    businessScope: '热食类食品制售；冷食类食品制售；生食类食品制售；自制饮品制售；预包装食品（含冷藏冷冻食品）销售；散装食品（含冷藏冷冻食品）销售',
    licenceNumber: 'JY23101040123456',
    validFrom: '2024-06-01',
    validTo: '2029-05-31',
  },
  'residence-permit': {
    name: '张晓梅',
    sex: '女',
    idNumber: residentBody + residentIdCheckChar(residentBody),
    address: '广东省深圳市南山区粤海街道科苑路15号',
    issuedOn: '2025-01-10',
    validFrom: '2025-01-10',
    validTo: '2026-01-09',
    photo: portraitPng().toString('base64'),
  },
};

/** A data value as the licence prints it: dates in the customary form 2025年01月10日. */
export function printedForm(value: string): string {
  const date = parseIsoDate(value);
  return date ? formatChineseDate(date) : value;
}

let freshCount = 0;

/**
 * Sample data to issue through the service: the holder's identifying numbers made unique (each type
 * admits one current licence per credit code, ID number or licence number), and no issue date, which
 * OneSeal fills in. `patch` overrides fields after that.
 */
export function freshSample(typeId: string, patch: Record<string, string> = {}): Record<string, string> {
  const n = String(process.pid % 10_000).padStart(4, '0') + String(++freshCount).padStart(4, '0');
  const data = { ...SAMPLE_DATA[typeId]! };
  if ('unifiedSocialCreditCode' in data) data.unifiedSocialCreditCode = withCheck(`911100008${n}`);
  if ('idNumber' in data) {
    const body = `440305${1950 + (freshCount % 50)}0307${n.slice(-2)}${(freshCount % 5) * 2}`;
    data.idNumber = body + residentIdCheckChar(body);
  }
  if ('licenceNumber' in data) data.licenceNumber = `JY231010${n}`;
  delete data.issuedOn;
  return { ...data, ...patch };
}

export const SAMPLE_ISSUERS: Record<string, { name: string; creditCode: string }> = {
  'business-licence': { name: '北京市海淀区市场监督管理局', creditCode: withCheck('11110108MB0129483') },
  'food-business-licence': { name: '上海市徐汇区市场监督管理局', creditCode: withCheck('11310104MB0177262') },
  'residence-permit': { name: '深圳市公安局南山分局', creditCode: withCheck('11440305007523190') },
};

/** A complete render input for a built-in type, with optional overrides of the data. */
export function sampleInput(typeId: string, data: Record<string, string> = SAMPLE_DATA[typeId]!, serial = '2025052200001'): LicenceRenderInput {
  const type = registry.get(typeId);
  const issuer = SAMPLE_ISSUERS[typeId]!;
  return {
    type,
    data,
    licenceId: buildLicenceId({ typeCode: type.typeCode, issuer: issuer.creditCode, serial, version: '001' }),
    issuer,
    issuedOn: '2025-05-22',
    publicBaseUrl: PUBLIC_BASE_URL,
  };
}
