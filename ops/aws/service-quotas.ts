import { GetServiceQuotaCommand, type ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { callAws, type RetryOptions } from './call';

/**
 * The EC2 quotas that cap running G instances, in vCPUs per region: one for on-demand and one for spot,
 * independent of each other (Service Quotas, service code `ec2`). New accounts often have 0 in both.
 */
export const GPU_VCPU_QUOTAS = {
  onDemand: { serviceCode: 'ec2', quotaCode: 'L-DB2E81BA', name: 'Running On-Demand G and VT instances' },
  spot: { serviceCode: 'ec2', quotaCode: 'L-3819A6DF', name: 'All G and VT Spot Instance Requests' },
} as const;

export interface QuotaValue {
  quotaCode: string;
  name: string;
  value: number;
  unit: string;
  adjustable: boolean;
}

/** The applied value of a quota, or null when Service Quotas has none for this account and region. */
export async function getServiceQuota(
  client: ServiceQuotasClient,
  serviceCode: string,
  quotaCode: string,
  retry?: RetryOptions,
): Promise<QuotaValue | null> {
  try {
    const res = await callAws(
      { action: 'servicequotas:GetServiceQuota', target: `quota ${serviceCode}/${quotaCode}` },
      () => client.send(new GetServiceQuotaCommand({ ServiceCode: serviceCode, QuotaCode: quotaCode })),
      retry,
    );
    const q = res.Quota;
    if (!q || q.Value === undefined) return null;
    return {
      quotaCode: q.QuotaCode ?? quotaCode,
      name: q.QuotaName ?? quotaCode,
      value: q.Value,
      unit: q.Unit ?? 'None',
      adjustable: q.Adjustable ?? false,
    };
  } catch (err) {
    if (err instanceof Error && err.name === 'NoSuchResourceException') return null;
    throw err;
  }
}
