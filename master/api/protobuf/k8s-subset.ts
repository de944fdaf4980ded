/**
 * The part of the Kubernetes protobuf schema that lotse decodes: the kinds kubectl's typed `create`
 * subcommands send (configmap, secret, namespace, serviceaccount, deployment, job, cronjob, ingress, service,
 * and the HorizontalPodAutoscaler of `kubectl autoscale`,
 * the RBAC kinds, token) and `kubectl auth` sends (the reviews), plus Pod, with
 * enough of PodSpec/Container for hand-written clients to round-trip their common fields.
 *
 * Field numbers follow k8s.io/api and k8s.io/apimachinery (generated.proto); only the fields listed
 * here are read, everything else on the wire is skipped. The schema is written in proto3 syntax on
 * purpose: Go's generated marshallers write every non-pointer field, even "" and 0, while the JSON
 * API omits them. Plain fields are therefore treated as "omit when zero" and the fields that are
 * pointers in Go (where 0/false/{} mean something, e.g. `replicas: 0`) are declared `optional`.
 *
 * `[(inline) = true]` marks Go's embedded structs (Volume.volumeSource, Probe.handler,
 * *.localObjectReference): their fields sit in the parent object in JSON.
 *
 * Message names that carry their meaning for the JSON converter: `Time` (RFC 3339 string),
 * `IntOrString` (number or string), `Quantity` (its string).
 */
export const k8sSubsetProto = `
syntax = "proto3";
package lotse.k8s;

// runtime.Unknown: the envelope after the 4 magic bytes.
message TypeMeta { string apiVersion = 1; string kind = 2; }
message Unknown { TypeMeta typeMeta = 1; bytes raw = 2; string contentEncoding = 3; string contentType = 4; }

// apimachinery
message Time { int64 seconds = 1; int32 nanos = 2; }
message IntOrString { int64 type = 1; int32 intVal = 2; string strVal = 3; }
message Quantity { string string = 1; }

message OwnerReference {
  string apiVersion = 5; string kind = 1; string name = 3; string uid = 4;
  optional bool controller = 6; optional bool blockOwnerDeletion = 7;
}
message ObjectMeta {
  string name = 1; string generateName = 2; string namespace = 3; string uid = 5;
  string resourceVersion = 6; int64 generation = 7; Time creationTimestamp = 8;
  map<string, string> labels = 11; map<string, string> annotations = 12;
  repeated OwnerReference ownerReferences = 13; repeated string finalizers = 14;
}
message LabelSelectorRequirement { string key = 1; string operator = 2; repeated string values = 3; }
message LabelSelector { map<string, string> matchLabels = 1; repeated LabelSelectorRequirement matchExpressions = 2; }
message Preconditions { optional string uid = 1; optional string resourceVersion = 2; }
message DeleteOptions {
  optional int64 gracePeriodSeconds = 1; optional Preconditions preconditions = 2; optional bool orphanDependents = 3;
  optional string propagationPolicy = 4; repeated string dryRun = 5;
}

// core/v1: config and identity
message ConfigMap {
  ObjectMeta metadata = 1; map<string, string> data = 2; map<string, bytes> binaryData = 3; optional bool immutable = 4;
}
message Secret {
  ObjectMeta metadata = 1; map<string, bytes> data = 2; string type = 3; map<string, string> stringData = 4; optional bool immutable = 5;
}
message NamespaceSpec { repeated string finalizers = 1; }
message Namespace { ObjectMeta metadata = 1; NamespaceSpec spec = 2; }
message LocalObjectReference { string name = 1; }
message ObjectReference {
  string kind = 1; string namespace = 2; string name = 3; string uid = 4; string apiVersion = 5; string resourceVersion = 6; string fieldPath = 7;
}
message ServiceAccount {
  ObjectMeta metadata = 1; repeated ObjectReference secrets = 2; repeated LocalObjectReference imagePullSecrets = 3;
  optional bool automountServiceAccountToken = 4;
}

// core/v1: services
message ServicePort {
  string name = 1; string protocol = 2; int32 port = 3; IntOrString targetPort = 4; int32 nodePort = 5; optional string appProtocol = 6;
}
message ClientIPConfig { optional int32 timeoutSeconds = 1; }
message SessionAffinityConfig { optional ClientIPConfig clientIP = 1; }
message ServiceSpec {
  repeated ServicePort ports = 1; map<string, string> selector = 2; string clusterIP = 3; string type = 4;
  repeated string externalIPs = 5; string sessionAffinity = 7; string loadBalancerIP = 8;
  repeated string loadBalancerSourceRanges = 9; string externalName = 10; string externalTrafficPolicy = 11;
  int32 healthCheckNodePort = 12; bool publishNotReadyAddresses = 13; optional SessionAffinityConfig sessionAffinityConfig = 14;
  optional string ipFamilyPolicy = 17; repeated string clusterIPs = 18; repeated string ipFamilies = 19;
  optional bool allocateLoadBalancerNodePorts = 20; optional string loadBalancerClass = 21;
  optional string internalTrafficPolicy = 22; optional string trafficDistribution = 23;
}
message Service { ObjectMeta metadata = 1; ServiceSpec spec = 2; }

// core/v1: containers
message ContainerPort { string name = 1; int32 hostPort = 2; int32 containerPort = 3; string protocol = 4; string hostIP = 5; }
message ObjectFieldSelector { string apiVersion = 1; string fieldPath = 2; }
message ResourceFieldSelector { string containerName = 1; string resource = 2; optional Quantity divisor = 3; }
message ConfigMapKeySelector { LocalObjectReference localObjectReference = 1 [(inline) = true]; string key = 2; optional bool optional = 3; }
message SecretKeySelector { LocalObjectReference localObjectReference = 1 [(inline) = true]; string key = 2; optional bool optional = 3; }
message EnvVarSource {
  optional ObjectFieldSelector fieldRef = 1; optional ResourceFieldSelector resourceFieldRef = 2;
  optional ConfigMapKeySelector configMapKeyRef = 3; optional SecretKeySelector secretKeyRef = 4;
}
message EnvVar { string name = 1; string value = 2; optional EnvVarSource valueFrom = 3; }
message ConfigMapEnvSource { LocalObjectReference localObjectReference = 1 [(inline) = true]; optional bool optional = 2; }
message SecretEnvSource { LocalObjectReference localObjectReference = 1 [(inline) = true]; optional bool optional = 2; }
message EnvFromSource { string prefix = 1; optional ConfigMapEnvSource configMapRef = 2; optional SecretEnvSource secretRef = 3; }
message ResourceClaim { string name = 1; string request = 2; }
message ResourceRequirements {
  map<string, Quantity> limits = 1; map<string, Quantity> requests = 2; repeated ResourceClaim claims = 3;
}
message VolumeMount {
  string name = 1; bool readOnly = 2; string mountPath = 3; string subPath = 4; optional string mountPropagation = 5;
  string subPathExpr = 6; optional string recursiveReadOnly = 7;
}
message ExecAction { repeated string command = 1; }
message HTTPHeader { string name = 1; string value = 2; }
message HTTPGetAction { string path = 1; IntOrString port = 2; string host = 3; string scheme = 4; repeated HTTPHeader httpHeaders = 5; }
message TCPSocketAction { IntOrString port = 1; string host = 2; }
message GRPCAction { int32 port = 1; optional string service = 2; }
message ProbeHandler {
  optional ExecAction exec = 1; optional HTTPGetAction httpGet = 2; optional TCPSocketAction tcpSocket = 3; optional GRPCAction grpc = 4;
}
message Probe {
  ProbeHandler handler = 1 [(inline) = true]; int32 initialDelaySeconds = 2; int32 timeoutSeconds = 3; int32 periodSeconds = 4;
  int32 successThreshold = 5; int32 failureThreshold = 6; optional int64 terminationGracePeriodSeconds = 7;
}
message SleepAction { int64 seconds = 1; }
message LifecycleHandler {
  optional ExecAction exec = 1; optional HTTPGetAction httpGet = 2; optional TCPSocketAction tcpSocket = 3; optional SleepAction sleep = 4;
}
message Lifecycle { optional LifecycleHandler postStart = 1; optional LifecycleHandler preStop = 2; }
message Capabilities { repeated string add = 1; repeated string drop = 2; }
message SecurityContext {
  optional Capabilities capabilities = 1; optional bool privileged = 2; optional int64 runAsUser = 4; optional bool runAsNonRoot = 5;
  optional bool readOnlyRootFilesystem = 6; optional bool allowPrivilegeEscalation = 7; optional int64 runAsGroup = 8;
}
message Container {
  string name = 1; string image = 2; repeated string command = 3; repeated string args = 4; string workingDir = 5;
  repeated ContainerPort ports = 6; repeated EnvVar env = 7; ResourceRequirements resources = 8;
  repeated VolumeMount volumeMounts = 9; optional Probe livenessProbe = 10; optional Probe readinessProbe = 11;
  optional Lifecycle lifecycle = 12; string terminationMessagePath = 13; string imagePullPolicy = 14;
  optional SecurityContext securityContext = 15; bool stdin = 16; bool stdinOnce = 17; bool tty = 18;
  repeated EnvFromSource envFrom = 19; string terminationMessagePolicy = 20; optional Probe startupProbe = 22;
  optional string restartPolicy = 24;
}

// core/v1: volumes (the common sources)
message KeyToPath { string key = 1; string path = 2; optional int32 mode = 3; }
message HostPathVolumeSource { string path = 1; optional string type = 2; }
message EmptyDirVolumeSource { string medium = 1; optional Quantity sizeLimit = 2; }
message SecretVolumeSource { string secretName = 1; repeated KeyToPath items = 2; optional int32 defaultMode = 3; optional bool optional = 4; }
message PersistentVolumeClaimVolumeSource { string claimName = 1; bool readOnly = 2; }
message ConfigMapVolumeSource {
  LocalObjectReference localObjectReference = 1 [(inline) = true]; repeated KeyToPath items = 2; optional int32 defaultMode = 3; optional bool optional = 4;
}
message VolumeSource {
  optional HostPathVolumeSource hostPath = 1; optional EmptyDirVolumeSource emptyDir = 2; optional SecretVolumeSource secret = 6;
  optional PersistentVolumeClaimVolumeSource persistentVolumeClaim = 10; optional ConfigMapVolumeSource configMap = 19;
}
message Volume { string name = 1; VolumeSource volumeSource = 2 [(inline) = true]; }

// core/v1: pods
message Toleration { string key = 1; string operator = 2; string value = 3; string effect = 4; optional int64 tolerationSeconds = 5; }
message PodSecurityContext {
  optional int64 runAsUser = 2; optional bool runAsNonRoot = 3; repeated int64 supplementalGroups = 4; optional int64 fsGroup = 5; optional int64 runAsGroup = 6;
}
message PodSpec {
  repeated Volume volumes = 1; repeated Container containers = 2; string restartPolicy = 3;
  optional int64 terminationGracePeriodSeconds = 4; optional int64 activeDeadlineSeconds = 5; string dnsPolicy = 6;
  map<string, string> nodeSelector = 7; string serviceAccountName = 8; string serviceAccount = 9; string nodeName = 10;
  bool hostNetwork = 11; bool hostPID = 12; bool hostIPC = 13; optional PodSecurityContext securityContext = 14;
  repeated LocalObjectReference imagePullSecrets = 15; string hostname = 16; string subdomain = 17; string schedulerName = 19;
  repeated Container initContainers = 20; optional bool automountServiceAccountToken = 21; repeated Toleration tolerations = 22;
  string priorityClassName = 24; optional int32 priority = 25; optional bool shareProcessNamespace = 27;
  optional string runtimeClassName = 29; optional bool enableServiceLinks = 30; optional string preemptionPolicy = 31;
  optional bool setHostnameAsFQDN = 35; optional bool hostUsers = 37;
}
message Pod { ObjectMeta metadata = 1; PodSpec spec = 2; }
message PodTemplateSpec { ObjectMeta metadata = 1; PodSpec spec = 2; }

// apps/v1
message RollingUpdateDeployment { optional IntOrString maxUnavailable = 1; optional IntOrString maxSurge = 2; }
message DeploymentStrategy { string type = 1; optional RollingUpdateDeployment rollingUpdate = 2; }
message DeploymentSpec {
  optional int32 replicas = 1; optional LabelSelector selector = 2; PodTemplateSpec template = 3; DeploymentStrategy strategy = 4;
  int32 minReadySeconds = 5; optional int32 revisionHistoryLimit = 6; bool paused = 7; optional int32 progressDeadlineSeconds = 9;
}
message Deployment { ObjectMeta metadata = 1; DeploymentSpec spec = 2; }

// batch/v1 (kubectl create job, including --from=cronjob/NAME, and kubectl create cronjob)
message PodFailurePolicyOnExitCodesRequirement { optional string containerName = 1; string operator = 2; repeated int32 values = 3; }
message PodFailurePolicyOnPodConditionsPattern { string type = 1; string status = 2; }
message PodFailurePolicyRule { string action = 1; optional PodFailurePolicyOnExitCodesRequirement onExitCodes = 2; repeated PodFailurePolicyOnPodConditionsPattern onPodConditions = 3; }
message PodFailurePolicy { repeated PodFailurePolicyRule rules = 1; }
message JobSpec {
  optional int32 parallelism = 1; optional int32 completions = 2; optional int64 activeDeadlineSeconds = 3; optional LabelSelector selector = 4;
  optional bool manualSelector = 5; PodTemplateSpec template = 6; optional int32 backoffLimit = 7; optional int32 ttlSecondsAfterFinished = 8;
  optional string completionMode = 9; optional bool suspend = 10; optional PodFailurePolicy podFailurePolicy = 11;
  optional int32 backoffLimitPerIndex = 12; optional int32 maxFailedIndexes = 13; optional string podReplacementPolicy = 14;
}
message Job { ObjectMeta metadata = 1; JobSpec spec = 2; }
message JobTemplateSpec { ObjectMeta metadata = 1; JobSpec spec = 2; }
message CronJobSpec {
  string schedule = 1; optional int64 startingDeadlineSeconds = 2; string concurrencyPolicy = 3; optional bool suspend = 4;
  JobTemplateSpec jobTemplate = 5; optional int32 successfulJobsHistoryLimit = 6; optional int32 failedJobsHistoryLimit = 7; optional string timeZone = 8;
}
message CronJob { ObjectMeta metadata = 1; CronJobSpec spec = 2; }

// rbac.authorization.k8s.io/v1 (kubectl create role, clusterrole, rolebinding, clusterrolebinding)
message PolicyRule { repeated string verbs = 1; repeated string apiGroups = 2; repeated string resources = 3; repeated string resourceNames = 4; repeated string nonResourceURLs = 5; }
message AggregationRule { repeated LabelSelector clusterRoleSelectors = 1; }
message Role { ObjectMeta metadata = 1; repeated PolicyRule rules = 2; }
message ClusterRole { ObjectMeta metadata = 1; repeated PolicyRule rules = 2; optional AggregationRule aggregationRule = 3; }
message Subject { string kind = 1; string apiGroup = 2; string name = 3; string namespace = 4; }
message RoleRef { string apiGroup = 1; string kind = 2; string name = 3; }
message RoleBinding { ObjectMeta metadata = 1; repeated Subject subjects = 2; RoleRef roleRef = 3; }
message ClusterRoleBinding { ObjectMeta metadata = 1; repeated Subject subjects = 2; RoleRef roleRef = 3; }

// networking.k8s.io/v1 (kubectl create ingress)
message ServiceBackendPort { string name = 1; int32 number = 2; }
message IngressServiceBackend { string name = 1; ServiceBackendPort port = 2; }
message TypedLocalObjectReference { optional string apiGroup = 1; string kind = 2; string name = 3; }
message IngressBackend { optional TypedLocalObjectReference resource = 3; optional IngressServiceBackend service = 4; }
message IngressTLS { repeated string hosts = 1; string secretName = 2; }
message HTTPIngressPath { string path = 1; IngressBackend backend = 2; optional string pathType = 3; }
message HTTPIngressRuleValue { repeated HTTPIngressPath paths = 1; }
message IngressRuleValue { optional HTTPIngressRuleValue http = 1; }
message IngressRule { string host = 1; IngressRuleValue ingressRuleValue = 2 [(inline) = true]; }
message IngressSpec { optional IngressBackend defaultBackend = 1; repeated IngressTLS tls = 2; repeated IngressRule rules = 3; optional string ingressClassName = 4; }
message Ingress { ObjectMeta metadata = 1; IngressSpec spec = 2; }

// autoscaling/v1 and v2 (kubectl autoscale: v1 before 1.33, v2 from 1.33 on)
message CrossVersionObjectReference { string kind = 1; string name = 2; string apiVersion = 3; }
message HorizontalPodAutoscalerSpecV1 { CrossVersionObjectReference scaleTargetRef = 1; optional int32 minReplicas = 2; int32 maxReplicas = 3; optional int32 targetCPUUtilizationPercentage = 4; }
message HorizontalPodAutoscalerV1 { ObjectMeta metadata = 1; HorizontalPodAutoscalerSpecV1 spec = 2; }
message MetricTarget { string type = 1; optional Quantity value = 2; optional Quantity averageValue = 3; optional int32 averageUtilization = 4; }
message ResourceMetricSource { string name = 1; MetricTarget target = 2; }
message ContainerResourceMetricSource { string name = 1; MetricTarget target = 2; string container = 3; }
message MetricSpec { string type = 1; optional ResourceMetricSource resource = 4; optional ContainerResourceMetricSource containerResource = 7; }
message HPAScalingPolicy { string type = 1; int32 value = 2; int32 periodSeconds = 3; }
message HPAScalingRules { optional string selectPolicy = 1; repeated HPAScalingPolicy policies = 2; optional int32 stabilizationWindowSeconds = 3; }
message HorizontalPodAutoscalerBehavior { optional HPAScalingRules scaleUp = 1; optional HPAScalingRules scaleDown = 2; }
message HorizontalPodAutoscalerSpecV2 { CrossVersionObjectReference scaleTargetRef = 1; optional int32 minReplicas = 2; int32 maxReplicas = 3; repeated MetricSpec metrics = 4; optional HorizontalPodAutoscalerBehavior behavior = 5; }
message HorizontalPodAutoscalerV2 { ObjectMeta metadata = 1; HorizontalPodAutoscalerSpecV2 spec = 2; }

// policy/v1 (kubectl drain evicts through the typed client)
message Eviction { ObjectMeta metadata = 1; DeleteOptions deleteOptions = 2; }

// authentication.k8s.io/v1 (kubectl create token) and authorization.k8s.io/v1 (kubectl auth)
message BoundObjectReference { string kind = 1; string apiVersion = 2; string name = 3; string uid = 4; }
message TokenRequestSpec { repeated string audiences = 1; optional BoundObjectReference boundObjectRef = 3; optional int64 expirationSeconds = 4; }
message TokenRequest { ObjectMeta metadata = 1; TokenRequestSpec spec = 2; }
message TokenReviewSpec { string token = 1; repeated string audiences = 2; }
message TokenReview { ObjectMeta metadata = 1; TokenReviewSpec spec = 2; }
message SelfSubjectReview { ObjectMeta metadata = 1; }
message ResourceAttributes { string namespace = 1; string verb = 2; string group = 3; string version = 4; string resource = 5; string subresource = 6; string name = 7; }
message NonResourceAttributes { string path = 1; string verb = 2; }
message SelfSubjectAccessReviewSpec { optional ResourceAttributes resourceAttributes = 1; optional NonResourceAttributes nonResourceAttributes = 2; }
message SelfSubjectAccessReview { ObjectMeta metadata = 1; SelfSubjectAccessReviewSpec spec = 2; }
message SubjectAccessReviewSpec { optional ResourceAttributes resourceAttributes = 1; optional NonResourceAttributes nonResourceAttributes = 2; string user = 3; repeated string groups = 4; string uid = 6; }
message SubjectAccessReview { ObjectMeta metadata = 1; SubjectAccessReviewSpec spec = 2; }
message LocalSubjectAccessReview { ObjectMeta metadata = 1; SubjectAccessReviewSpec spec = 2; }
message SelfSubjectRulesReviewSpec { string namespace = 1; }
message SelfSubjectRulesReview { ObjectMeta metadata = 1; SelfSubjectRulesReviewSpec spec = 2; }
`;

/** The package of every message above. */
export const k8sSubsetPackage = 'lotse.k8s';

/**
 * apiVersion/kind (as in runtime.Unknown's typeMeta) → the message that decodes its raw bytes;
 * `*` matches any apiVersion (typed Go clients send DeleteOptions in the group version of the
 * resource, e.g. `kubectl drain --disable-eviction`). Status is not decoded: on create it carries
 * nothing worth keeping.
 */
export const messageForKind: Readonly<Record<string, string>> = {
  'v1/ConfigMap': 'ConfigMap',
  'v1/Secret': 'Secret',
  'v1/Namespace': 'Namespace',
  'v1/ServiceAccount': 'ServiceAccount',
  'v1/Service': 'Service',
  'v1/Pod': 'Pod',
  'apps/v1/Deployment': 'Deployment',
  'batch/v1/Job': 'Job',
  'batch/v1/CronJob': 'CronJob',
  'networking.k8s.io/v1/Ingress': 'Ingress',
  'policy/v1/Eviction': 'Eviction',
  'autoscaling/v1/HorizontalPodAutoscaler': 'HorizontalPodAutoscalerV1',
  'autoscaling/v2/HorizontalPodAutoscaler': 'HorizontalPodAutoscalerV2',
  '*/DeleteOptions': 'DeleteOptions',
  'rbac.authorization.k8s.io/v1/Role': 'Role',
  'rbac.authorization.k8s.io/v1/ClusterRole': 'ClusterRole',
  'rbac.authorization.k8s.io/v1/RoleBinding': 'RoleBinding',
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': 'ClusterRoleBinding',
  'authentication.k8s.io/v1/TokenRequest': 'TokenRequest',
  'authentication.k8s.io/v1/TokenReview': 'TokenReview',
  'authentication.k8s.io/v1/SelfSubjectReview': 'SelfSubjectReview',
  'authorization.k8s.io/v1/SelfSubjectAccessReview': 'SelfSubjectAccessReview',
  'authorization.k8s.io/v1/SubjectAccessReview': 'SubjectAccessReview',
  'authorization.k8s.io/v1/LocalSubjectAccessReview': 'LocalSubjectAccessReview',
  'authorization.k8s.io/v1/SelfSubjectRulesReview': 'SelfSubjectRulesReview',
};
